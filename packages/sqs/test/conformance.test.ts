// SQS passes the same suite as every other broker: against fauxqs through SNS fan-out, and (with
// SQS_ENDPOINT pointing at ElasticMQ) with the publisher fanning out to each group's queue.
import { PublishCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { launchPrivateBroker, runConformance, sweepBroker } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { afterAll } from 'vitest';
import { groupQueuePrefix, snsTopicName } from '../src/names.ts';
import { resolveOptions } from '../src/options.ts';
import { SqsTransport } from '../src/transport.ts';
import { rawClients, SQS_ENDPOINT, sqsUrl } from './helpers.ts';

const VISIBILITY_SECONDS = 5;
const url = sqsUrl({ visibilityTimeout: String(VISIBILITY_SECONDS) });
const upstream = new URL(SQS_ENDPOINT);
const probe = new SqsTransport(resolveOptions(new URL(url)));
const fanOut = await probe.fanOut();
await probe.close();
const raw = rawClients();
afterAll(() => {
  raw.sqs.destroy();
  raw.sns.destroy();
});

let run = 0;

runConformance({
  name: 'sqs',
  url,
  capabilities: probe.capabilities,
  connect: (options) => connect({ url: options?.url ?? url, source: `conformance-${run++}` }),
  // A foreign producer: a plain body with no attributes, where the topic's groups will see it.
  async injectRaw(topic, body) {
    const message = new TextDecoder().decode(body);
    if (fanOut === 'sns') {
      const { CreateTopicCommand } = await import('@aws-sdk/client-sns');
      const { TopicArn } = await raw.sns.send(
        new CreateTopicCommand({ Name: snsTopicName('', topic, false) }),
      );
      await raw.sns.send(new PublishCommand({ TopicArn, Message: message }));
      return;
    }
    const { QueueUrls } = await raw.sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: groupQueuePrefix('', topic) }),
    );
    for (const queueUrl of QueueUrls ?? []) {
      await raw.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message }));
    }
  },
  urlThroughProxy: (proxy) =>
    sqsUrl({ visibilityTimeout: String(VISIBILITY_SECONDS) }, `http://${proxy.host}:${proxy.port}`),
  upstream: { host: upstream.hostname, port: Number(upstream.port || 80) },
  ackDeadlineMs: VISIBILITY_SECONDS * 1000,
  // A killed member's messages come back when their visibility timeout runs out.
  redeliveryAfterCrashMs: VISIBILITY_SECONDS * 1000 + 5_000,
  // The restart case bounces a fauxqs of its own that keeps its state on disk (the shared one is
  // in-memory, and in use by every other test file).
  privateBroker: async () => {
    const broker = await launchPrivateBroker('sqs');
    return {
      url: sqsUrl({ visibilityTimeout: String(VISIBILITY_SECONDS) }, broker.url),
      restart: broker.restart,
      stop: broker.stop,
    };
  },
  // Every queue and SNS topic the cases made: their topics all start with the run's prefix, which
  // stays whole in a cut name (a prefix is ≤ 12 characters; SQS keeps 12 before the hash).
  async sweep(prefix) {
    await sweepBroker('sqs', SQS_ENDPOINT, { match: (topic) => topic.startsWith(prefix) }).catch(() => {});
  },
});
