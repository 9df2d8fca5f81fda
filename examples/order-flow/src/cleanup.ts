import { describeCount, sweepBroker } from '@switchyard/conformance';
import { topicPrefixFor, topicsFor } from './events.ts';

/**
 * Remove the topics of one run (and the queues, streams and groups that follow them) from the
 * broker at `url`. The SDK itself never deletes topics: in production they outlive the services
 * that use them. The demo's are throwaway, so it removes them with the test kit's sweep. Returns
 * what it did, for one log line; never throws (a broker gone away leaves it to `pnpm brokers sweep`).
 */
export async function removeRunTopics(url: string, runId: string): Promise<string> {
  const target = sweepTarget(url);
  if (!target) return url.startsWith('memory:') ? '' : `left the topics in place on ${new URL(url).protocol}`;
  const prefix = topicPrefixFor(runId);
  try {
    const count = await sweepBroker(target.name, target.url, {
      match: (topic) => topic.startsWith(prefix),
      topics: Object.values(topicsFor(runId)),
    });
    return `removed ${describeCount(count)} of ${prefix}*`;
  } catch (error) {
    return `could not remove ${prefix}* (${(error as Error).message}); pnpm brokers sweep removes them later`;
  }
}

/** The broker behind a bus URL, in the form of the broker's env var that the sweep takes. */
function sweepTarget(url: string) {
  const parsed = new URL(url);
  switch (parsed.protocol) {
    case 'kafka:':
      return { name: 'kafka' as const, url: url.replace(/^kafka:\/\//, '').replace(/[/?].*$/, '') };
    case 'amqp:':
    case 'amqps:':
      return { name: 'rabbitmq' as const, url };
    case 'nats:':
      return { name: 'nats' as const, url };
    case 'sqs:': {
      // Only an emulator: against AWS the sweep's dummy credentials would not do, nor should a demo.
      const endpoint = parsed.searchParams.get('endpoint');
      return endpoint ? { name: 'sqs' as const, url: endpoint } : undefined;
    }
    default:
      return undefined;
  }
}
