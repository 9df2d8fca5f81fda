// The pure parts of the provisioning: bootstrap and env parsing, masking.
import { describe, expect, test } from 'vitest';
import { parseBootstrap } from '../src/provision/kafka/health.ts';
import { brokersFromEnv, sqsEmulatorFromEnv } from '../src/provision/options.ts';
import { maskUrl } from '../src/provision/redact.ts';
import { formatTable } from '../src/provision/table.ts';

describe('kafka bootstrap', () => {
  test('bootstrap lists parse', () => {
    expect(parseBootstrap('127.0.0.1:9092, kafka://b:9093')).toEqual([
      { host: '127.0.0.1', port: 9092 },
      { host: 'b', port: 9093 },
    ]);
  });
});

describe('options', () => {
  test('BROKERS selects a subset and rejects unknown names', () => {
    expect(brokersFromEnv('kafka, NATS')).toEqual(['kafka', 'nats']);
    expect(brokersFromEnv('')).toEqual(['kafka', 'rabbitmq', 'sqs', 'nats']);
    expect(() => brokersFromEnv('kafka,redis')).toThrow(/redis/);
  });

  test('SQS_EMULATOR accepts the two emulators only', () => {
    expect(sqsEmulatorFromEnv(undefined)).toBe('fauxqs');
    expect(sqsEmulatorFromEnv('elasticmq')).toBe('elasticmq');
    expect(() => sqsEmulatorFromEnv('localstack')).toThrow();
  });
});

describe('credentials never reach the table', () => {
  test('userinfo is masked in URLs and reasons', () => {
    expect(maskUrl('amqp://guest:s3cret@127.0.0.1:5672/vh')).toBe('amqp://***@127.0.0.1:5672/vh');
    expect(maskUrl('nats://tok@a:1,nats://u:p@b:2')).toBe('nats://***@a:1,nats://***@b:2');
    const table = formatTable([
      {
        name: 'rabbitmq',
        available: false,
        url: '',
        provisioned: 'env',
        version: '',
        readyMs: 1,
        reason: 'rabbitmq: AMQP_URL=amqp://guest:s3cret@h:1 does not answer',
      },
    ]);
    expect(table).not.toContain('s3cret');
  });
});
