import { InvalidUrlError, UnsupportedOptionError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { logCreatorFor, redact, secretsOf } from '../src/logger.ts';
import { parseKafkaUrl, resolveOptions } from '../src/options.ts';

describe('kafka:// URL and options', () => {
  it('reads a single host from a WHATWG URL with nothing else configured', () => {
    const o = resolveOptions(new URL('kafka://127.0.0.1:9092'));
    expect(o.brokers).toEqual(['127.0.0.1:9092']);
    expect(o.sasl).toBeUndefined();
    expect(o.ssl).toBeUndefined();
    expect(o.partitions).toBe(3);
  });

  it('reads a comma-separated host list, defaulting the port', () => {
    expect(parseKafkaUrl('kafka://a:9092,b:9093,c').brokers).toEqual(['a:9092', 'b:9093', 'c:9092']);
  });

  it('turns user info into SASL and ?ssl=true into TLS', () => {
    const o = resolveOptions('kafka://alice:s%40cret@h:9094?ssl=true&sasl=scram-sha-512');
    expect(o.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: 's@cret' });
    expect(o.ssl).toBe(true);
  });

  it('refuses a URL parameter it does not know or cannot read, rather than connect without TLS', () => {
    // `?ssl=yes`, `?ssl=1` or a misspelt `?sls=true` used to connect in plaintext, sending the
    // user info's password in the clear with SASL PLAIN. The message never repeats the URL.
    for (const url of [
      'kafka://alice:pw@h:9094?ssl=yes',
      'kafka://alice:pw@h:9094?ssl=1',
      'kafka://alice:pw@h:9094?ssl=TRUE&ssl=false',
      'kafka://alice:pw@h:9094?sls=true',
      'kafka://alice:pw@h:9094?ssl=true&sasl=scram',
      'kafka://h:9094?sasl=plain',
    ]) {
      expect(() => resolveOptions(url), url).toThrow(InvalidUrlError);
      try {
        resolveOptions(url);
      } catch (error) {
        expect((error as Error).message).not.toContain('pw');
      }
    }
    expect(resolveOptions('kafka://h:1?ssl=false').ssl).toBeUndefined();
    expect(resolveOptions('kafka://a:pw@h:1?ssl=true&sasl=SCRAM-SHA-256&clientId=x').sasl?.mechanism).toBe(
      'scram-sha-256',
    );
    // Options given in code win, so a URL parameter they replace is not checked against them.
    expect(
      resolveOptions('kafka://h:1?sasl=plain', { sasl: { mechanism: 'plain', username: 'u', password: 'p' } })
        .sasl?.mechanism,
    ).toBe('plain');
  });

  it('refuses a duration a timer cannot keep, naming it, instead of firing it after 1 ms', () => {
    // Node runs setTimeout given NaN, Infinity or more than 2^31 - 1 ms after 1 ms: a
    // connectTimeoutMs of Infinity ('wait for ever') failed every connect at once.
    const timers = [
      'sessionTimeoutMs',
      'heartbeatIntervalMs',
      'rebalanceTimeoutMs',
      'connectTimeoutMs',
      'connectionTimeoutMs',
      'requestTimeoutMs',
    ] as const;
    for (const name of timers) {
      for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
        expect(() => resolveOptions('kafka://h:1', { [name]: ms }), `${name}: ${ms}`).toThrow(
          UnsupportedOptionError,
        );
        expect(() => resolveOptions('kafka://h:1', { [name]: ms })).toThrow(
          new RegExp(`${name} must be a number of milliseconds from 1 to 2147483647`),
        );
      }
      expect(resolveOptions('kafka://h:1', { [name]: 2 ** 31 - 1 })[name]).toBe(2 ** 31 - 1);
    }
    expect(resolveOptions('kafka://h:1', { maxWaitTimeMs: 0 }).maxWaitTimeMs).toBe(0);
    expect(() => resolveOptions('kafka://h:1', { maxWaitTimeMs: Number.POSITIVE_INFINITY })).toThrow(
      /maxWaitTimeMs/,
    );
  });

  it('takes any drainTimeoutMs from 0, Infinity meaning no bound, and refuses NaN or a negative', () => {
    expect(resolveOptions('kafka://h:1', { drainTimeoutMs: 0 }).drainTimeoutMs).toBe(0);
    expect(resolveOptions('kafka://h:1', { drainTimeoutMs: Number.POSITIVE_INFINITY }).drainTimeoutMs).toBe(
      Number.POSITIVE_INFINITY,
    );
    for (const ms of [-1, Number.NaN])
      expect(() => resolveOptions('kafka://h:1', { drainTimeoutMs: ms })).toThrow(/drainTimeoutMs/);
  });

  it('refuses counts that are not whole numbers in range, naming them', () => {
    const bad = [
      { partitions: 0 },
      { partitions: 1.5 },
      { maxMessageBytes: 0 },
      { maxUncommittedPerPartition: 0 },
      { publishRetries: -1 },
      { publishRetries: Number.POSITIVE_INFINITY },
    ];
    for (const options of bad) {
      const [name] = Object.keys(options);
      expect(() => resolveOptions('kafka://h:1', options), name).toThrow(UnsupportedOptionError);
      expect(() => resolveOptions('kafka://h:1', options)).toThrow(
        new RegExp(`${name} must be a whole number`),
      );
    }
    expect(resolveOptions('kafka://h:1', { publishRetries: 0 }).publishRetries).toBe(0);
  });

  it('lets options override the URL', () => {
    const o = resolveOptions('kafka://h:1', { brokers: ['x:2'], partitions: 6, clientId: 'billing' });
    expect(o.brokers).toEqual(['x:2']);
    expect(o.partitions).toBe(6);
    expect(o.clientId).toBe('billing');
  });

  it('picks the client driver from options, else the URL, else kafkajs; refuses another', () => {
    expect(resolveOptions('kafka://h:1').client).toBe('kafkajs');
    expect(resolveOptions('kafka://h:1?client=platformatic').client).toBe('platformatic');
    expect(resolveOptions('kafka://h:1?client=platformatic', { client: 'kafkajs' }).client).toBe('kafkajs');
    expect(() => resolveOptions('kafka://h:1?client=rdkafka')).toThrow(UnsupportedOptionError);
  });

  it('rejects a URL without hosts, without echoing it', () => {
    expect(() => resolveOptions('kafka://user:pw@')).toThrow(InvalidUrlError);
    try {
      resolveOptions('kafka://user:hunter2@');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('never lets a SASL secret reach a log line', () => {
    const o = resolveOptions('kafka://h:1', {
      sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' },
      logLevel: 'debug',
      logger: (entry) => lines.push(entry.message + entry.namespace),
    });
    const lines: string[] = [];
    expect(secretsOf(o)).toEqual(['hunter2']);
    expect(redact('auth with hunter2 failed', secretsOf(o))).toBe('auth with *** failed');
    const log = logCreatorFor(o)(4);
    log({
      namespace: 'Connection',
      level: 1,
      label: 'ERROR',
      log: {
        message: 'SASL failed for password hunter2',
        timestamp: '',
        sasl: { password: 'hunter2' },
      } as never,
    });
    expect(lines).toHaveLength(1);
    expect(lines.join()).not.toContain('hunter2');
  });

  it('writes expected conditions below error, at warn and up by default, and nothing once closed', () => {
    const entries: Array<{ level: string; namespace: string; message: string }> = [];
    let closed = false;
    const log = logCreatorFor(
      resolveOptions('kafka://h:1'),
      (entry) => entries.push(entry),
      () => closed,
    )(4);
    const line = (namespace: string, message: string, level = 1) =>
      log({ namespace, level, label: 'ERROR', log: { message, timestamp: '' } as never });
    line('Connection', 'Response CreateTopics(key: 19, version: 3)'); // topic exists: handled
    line('Connection', 'Response ListOffsets(key: 2, version: 4)');
    line('Connection', 'Response Heartbeat(key: 12, version: 3)');
    line('Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded: Connection error');
    line('Consumer', 'Restarting the consumer in 1000ms');
    line('Producer', 'Limiting retries for the idempotent producer may invalidate EoS guarantees', 2);
    line('Runner', 'The group is rebalancing, re-joining', 2);
    line('Producer', 'Something nobody expected');
    closed = true;
    line('Producer', 'Something after close');
    expect(entries.map((e) => [e.level, e.namespace, e.message.split(':')[0]])).toEqual([
      ['warn', 'kafka.Consumer', 'Crash'],
      ['warn', 'kafka.Consumer', 'Restarting the consumer in 1000ms'],
      ['error', 'kafka.Producer', 'Something nobody expected'],
    ]);
  });
});
