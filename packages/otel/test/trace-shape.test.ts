// The trace shape on memory:// and on real brokers: send and process spans (names, kinds,
// attributes, parent and link), the traceparent carried through the broker, attempts as events, the
// dead letter's send linked to the failed process span, and the metrics counting what happened.
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { runPrefix, sweepBroker, uniqueName } from '@switchyard/conformance';
import { connect, handle, type Outcome } from '@switchyard/core';
import { firstValueFrom, type Subscription } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ATTR, EVENT, formatTraceparent, instrument, METRIC } from '../src/index.ts';
import { memorySdk, same, total } from './sdk.ts';

interface Target {
  readonly name: string;
  readonly system: string;
  readonly url: string;
  readonly sweep?: () => Promise<unknown>;
}

const mine = (topic: string) => topic.startsWith(runPrefix);
/** Every topic made here, for the brokers (SQS/SNS) whose long names a prefix cannot match. */
const made: string[] = [];
const SQS_ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
// No EC2 metadata lookups: with no credentials the transport falls back to the emulator's.
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
const TARGETS: Target[] = [
  { name: 'memory', system: 'memory', url: `memory://${uniqueName('otel')}` },
  {
    name: 'nats',
    system: 'nats',
    url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    sweep: () => sweepBroker('nats', process.env.NATS_URL ?? 'nats://127.0.0.1:4222', { match: mine }),
  },
  {
    name: 'rabbitmq',
    system: 'rabbitmq',
    url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2F',
    sweep: () =>
      sweepBroker('rabbitmq', process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2F', {
        match: mine,
      }),
  },
  {
    name: 'kafka',
    system: 'kafka',
    url: `kafka://${process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'}`,
    sweep: () => sweepBroker('kafka', process.env.KAFKA_BROKERS ?? '127.0.0.1:9092', { match: mine }),
  },
  {
    name: 'sqs',
    system: 'aws_sqs',
    url: `sqs://?${new URLSearchParams({ endpoint: SQS_ENDPOINT, region: 'us-east-1', waitTime: '1' })}`,
    sweep: () => sweepBroker('sqs', SQS_ENDPOINT, { match: mine, topics: made }),
  },
];

afterAll(async () => {
  for (const target of TARGETS) await target.sweep?.().catch(() => undefined);
});

describe.each(TARGETS)('trace shape on $name', (target) => {
  it('send → broker → process, attempts as events, the dead letter linked to the failed span', async () => {
    const sdk = memorySdk();
    const bus = instrument(await connect({ url: target.url, source: 'otel-test' }), {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
    });
    const subscriptions: Subscription[] = [];
    try {
      const topic = uniqueName('orders');
      const dlq = `${topic}.billing.dlq`;
      made.push(topic, dlq);
      await bus.provision(topic, { groups: ['billing'] });
      await bus.provision(dlq, { groups: ['ops'] });

      const seenTraceparent = new Map<string, string | undefined>();
      const tracer = sdk.tracerProvider.getTracer('handler');
      const outcomes: Outcome[] = [];
      subscriptions.push(
        bus
          .consume<{ fail: boolean }>(topic, { group: 'billing' })
          .pipe(
            handle(
              async (event) => {
                seenTraceparent.set(event.id, event.traceparent);
                // The handler's own span lands under the process span.
                tracer.startSpan('work').end();
                await Promise.resolve();
                if (event.data.fail) throw new Error('payment refused');
              },
              { retry: { maxAttempts: 2, backoff: () => 1 }, timeoutMs: 5_000 },
            ),
          )
          .subscribe((o) => outcomes.push(o)),
      );

      // Published inside a request span: the send span is its child.
      const request = tracer.startSpan('request');
      const inRequest = trace.setSpan(context.active(), request);
      const ok = await context.with(inRequest, () =>
        bus.publish(topic, { type: 'order', id: 'ok', data: { fail: false } }),
      );
      const bad = await context.with(inRequest, () =>
        bus.publish(topic, { type: 'order', id: 'bad', data: { fail: true } }),
      );
      request.end();
      await until(() => outcomes.filter((o) => o.kind !== 'retrying').length === 2, 'both outcomes');
      const dead = await firstValueFrom(bus.consume(dlq, { group: 'ops' }));
      await dead.ack();
      await until(() => sdk.spans().filter((s) => s.name === `process ${topic}`).length === 2, 'spans');

      const spans = sdk.spans();
      const send = (id: string) =>
        spans.find((s) => s.name === `send ${topic}` && s.attributes[ATTR.messageId] === id)!;
      const process = (id: string) =>
        spans.find((s) => s.name === `process ${topic}` && s.attributes[ATTR.messageId] === id)!;

      // send {topic}: PRODUCER, under the request, its context in the event as sent and as received.
      const sendOk = send('ok');
      expect(sendOk.kind).toBe(SpanKind.PRODUCER);
      expect(same(sendOk.parentSpanContext, request.spanContext())).toBe(true);
      expect(sendOk.attributes).toMatchObject({
        [ATTR.system]: target.system,
        [ATTR.destination]: topic,
        [ATTR.operationType]: 'send',
        [ATTR.operationName]: 'send',
        [ATTR.messageId]: 'ok',
        [ATTR.conversationId]: 'ok',
      });
      expect(ok.traceparent).toBe(formatTraceparent(sendOk.spanContext()));
      expect(seenTraceparent.get('ok')).toBe(ok.traceparent);
      expect(seenTraceparent.get('bad')).toBe(bad.traceparent);

      // process {topic}: CONSUMER, a trace of its own (default), linked to the send span.
      const processOk = process('ok');
      expect(processOk.kind).toBe(SpanKind.CONSUMER);
      expect(processOk.parentSpanContext).toBeUndefined();
      expect(processOk.spanContext().traceId).not.toBe(sendOk.spanContext().traceId);
      expect(processOk.links.map((l) => l.context.spanId)).toEqual([sendOk.spanContext().spanId]);
      expect(processOk.attributes).toMatchObject({
        [ATTR.system]: target.system,
        [ATTR.destination]: topic,
        [ATTR.consumerGroup]: 'billing',
        [ATTR.operationType]: 'process',
        [ATTR.operationName]: 'process',
        [ATTR.messageId]: 'ok',
        [ATTR.outcome]: 'acked',
      });
      expect(processOk.status.code).toBe(SpanStatusCode.UNSET);
      expect(processOk.events.map((e) => e.name)).toEqual([EVENT.attempt]);
      const works = spans.filter((s) => s.name === 'work');
      expect(works.some((w) => same(w.parentSpanContext, processOk.spanContext()))).toBe(true);

      // The failed one: two attempts as events, each failure an exception, ERROR status, dead-lettered.
      const processBad = process('bad');
      expect(processBad.events.map((e) => e.name)).toEqual([
        EVENT.attempt,
        'exception',
        EVENT.retry,
        EVENT.attempt,
        'exception',
      ]);
      expect(
        processBad.events.filter((e) => e.name === EVENT.attempt).map((e) => e.attributes?.[ATTR.attempt]),
      ).toEqual([1, 2]);
      expect(processBad.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'payment refused' });
      expect(processBad.attributes).toMatchObject({
        [ATTR.errorType]: 'Error',
        [ATTR.outcome]: 'deadLettered',
        [ATTR.deadLetterTopic]: dlq,
      });

      // The dead letter's send: under the failed process span and linked to it; its context in the copy.
      const sendDlq = spans.find((s) => s.name === `send ${dlq}`)!;
      expect(sendDlq.kind).toBe(SpanKind.PRODUCER);
      expect(same(sendDlq.parentSpanContext, processBad.spanContext())).toBe(true);
      const deadLink = sendDlq.links.find((l) => l.attributes?.[ATTR.linkKind] === 'dead-letter');
      expect(same(deadLink?.context, processBad.spanContext())).toBe(true);
      // ...and to the message's creation context, which it replaces in the copy.
      expect(sendDlq.links.some((l) => same(l.context, send('bad').spanContext()))).toBe(true);
      expect(dead.message.headers.traceparent).toBe(formatTraceparent(sendDlq.spanContext()));

      // Metrics: what was sent, consumed and processed, with error.type on the failure.
      const metrics = await sdk.metrics();
      expect(total(metrics.get(METRIC.sent), { [ATTR.destination]: topic })).toBe(2);
      expect(total(metrics.get(METRIC.sent), { [ATTR.destination]: dlq })).toBe(1);
      expect(total(metrics.get(METRIC.operationDuration), { [ATTR.destination]: topic })).toBe(2);
      expect(
        total(metrics.get(METRIC.consumed), { [ATTR.destination]: topic, [ATTR.consumerGroup]: 'billing' }),
      ).toBe(2);
      expect(total(metrics.get(METRIC.processDuration), { [ATTR.destination]: topic })).toBe(2);
      expect(total(metrics.get(METRIC.processDuration), { [ATTR.errorType]: 'Error' })).toBe(1);
      expect(metrics.get(METRIC.processDuration)?.descriptor.unit).toBe('s');
    } finally {
      for (const s of subscriptions) s.unsubscribe();
      await bus.close({ drainTimeoutMs: 2_000 });
      await sdk.shutdown();
    }
  });
});

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
