// No broker needed: how errors that quote a URL are worded.
import { expect, it, describe as suite } from 'vitest';
import { describe } from '../src/errors.ts';

const SECRET = 's3cr3t-Pa55';

suite('describe()', () => {
  it('redacts a URL once and leaves a redacted message as it is, host and port included', () => {
    const first = new Error(
      `Cannot connect to RabbitMQ at amqp://guest:${SECRET}@127.0.0.1:5672: connect ECONNREFUSED`,
    );
    const once = describe(first);
    expect(once).toBe('Cannot connect to RabbitMQ at amqp://***:***@127.0.0.1:5672: connect ECONNREFUSED');
    // A publish timeout quotes the last connection error, described again.
    const timeout = `Publish timed out: no connection to the broker (${once})`;
    expect(describe(new Error(timeout))).toBe(timeout);
    expect(describe(new Error(timeout))).not.toContain('<invalid url>');
    expect(describe(`lost amqps://u:${SECRET}@rmq.internal:5671/vh.`)).toBe(
      'lost amqps://***:***@rmq.internal:5671/vh.',
    );
  });
});
