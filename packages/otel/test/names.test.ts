// The messaging conventions are still experimental (status Development): every name this package
// emits is pinned here, so a change is a deliberate edit of this list, not a drift.
import { describe, expect, it } from 'vitest';
import { ATTR, DURATION_BUCKETS, EVENT, METRIC, SYSTEMS } from '../src/index.ts';

describe('semantic convention names', () => {
  it('attributes', () => {
    expect(ATTR).toEqual({
      system: 'messaging.system',
      destination: 'messaging.destination.name',
      operationType: 'messaging.operation.type',
      operationName: 'messaging.operation.name',
      consumerGroup: 'messaging.consumer.group.name',
      messageId: 'messaging.message.id',
      conversationId: 'messaging.message.conversation_id',
      bodySize: 'messaging.message.body.size',
      batchCount: 'messaging.batch.message_count',
      errorType: 'error.type',
      attempt: 'switchyard.attempt',
      retryDelay: 'switchyard.retry.delay_ms',
      outcome: 'switchyard.outcome',
      deadLetterTopic: 'switchyard.dead_letter.topic',
      linkKind: 'switchyard.link.kind',
    });
  });

  it('metrics, span events, systems and buckets', () => {
    expect(METRIC).toEqual({
      sent: 'messaging.client.sent.messages',
      consumed: 'messaging.client.consumed.messages',
      operationDuration: 'messaging.client.operation.duration',
      processDuration: 'messaging.process.duration',
      backlog: 'switchyard.consumer.backlog',
      inFlight: 'switchyard.consumer.in_flight',
      lagAge: 'switchyard.consumer.lag.age',
      dlqDepth: 'switchyard.dlq.depth',
    });
    expect(EVENT).toEqual({ attempt: 'attempt', retry: 'retry' });
    expect(SYSTEMS).toEqual({
      kafka: 'kafka',
      rabbitmq: 'rabbitmq',
      sqs: 'aws_sqs',
      nats: 'nats',
      memory: 'memory',
    });
    expect(DURATION_BUCKETS).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
  });
});
