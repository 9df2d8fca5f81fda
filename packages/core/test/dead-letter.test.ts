import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { connect } from '../src/connect.ts';
import { NonRetryableError } from '../src/errors.ts';
import { createEvent } from '../src/event.ts';
import { MemoryTransport } from '../src/memory/transport.ts';
import { DEAD_LETTER_GROUP } from '../src/ops/stats.ts';
import { deadLetter, deadLetterTopic, fitted, keepDeadLetters } from '../src/policies/dead-letter.ts';
import { handle } from '../src/policies/handle.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import { type Capabilities, encodedSize, type WireMessage } from '../src/transport.ts';
import { uniqueName } from './helpers.ts';

async function setup() {
  const bus = await connect({ url: `memory://${uniqueName('dlq')}`, source: 'test' });
  await bus.provision('orders', { groups: ['billing'] });
  await bus.provision('orders.billing.dlq', { groups: ['ops'] });
  await bus.provision('custom.dlq', { groups: ['ops'] });
  return bus;
}

describe('deadLetter', () => {
  it('publishes the message unchanged plus the deadletter* extensions', async () => {
    const bus = await setup();
    const sent = await bus.publish('orders', {
      type: 'com.acme.order.placed',
      data: { orderId: 'o-1', note: 'ünïcødé' },
      key: 'o-1',
      subject: 'o-1',
      extensions: { tenant: 'acme' },
    });
    const delivery = await firstValueFrom(bus.consume('orders', { group: 'billing', from: 'earliest' }));
    expect(deadLetterTopic(delivery, undefined)).toBe('orders.billing.dlq');
    expect(deadLetterTopic(delivery, { topic: 'x' })).toBe('x');

    const before = Date.now();
    const topic = await deadLetter(delivery, 'handler failed', 3);
    expect(topic).toBe('orders.billing.dlq');
    const dead = await firstValueFrom(bus.consume('orders.billing.dlq', { group: 'ops' }));

    // Every original header is kept as it was; five are added.
    const {
      deadletterreason,
      deadletterattempts,
      deadlettertopic,
      deadlettergroup,
      deadletteredat,
      ...rest
    } = dead.message.headers;
    expect(rest).toEqual(delivery.message.headers);
    expect({ deadletterreason, deadletterattempts, deadlettertopic, deadlettergroup }).toEqual({
      deadletterreason: 'handler failed',
      deadletterattempts: '3',
      deadlettertopic: 'orders',
      deadlettergroup: 'billing',
    });
    expect(Date.parse(deadletteredat!)).toBeGreaterThanOrEqual(before - 1);
    expect(Buffer.from(dead.message.body).equals(Buffer.from(delivery.message.body))).toBe(true);
    expect(dead.message.key).toBe('o-1');
    // It is still the same, valid event: it can be replayed to its topic unchanged.
    expect(dead.invalid).toBeUndefined();
    expect(dead.event).toMatchObject({ id: sent.id, data: sent.data, subject: 'o-1' });
    await Promise.all([delivery.ack(), dead.ack()]);
    await bus.close();
  });

  it('keeps a binary body byte for byte and strips control characters from the reason', async () => {
    const bus = await setup();
    const body = new Uint8Array([0, 1, 2, 255, 254, 10, 13, 0]);
    await bus.publishWire('orders', [
      {
        headers: {
          specversion: '1.0',
          id: 'b-1',
          source: 's',
          type: 't',
          datacontenttype: 'application/octet-stream',
        },
        body,
      },
    ]);
    const delivery = await firstValueFrom(bus.consume('orders', { group: 'billing', from: 'earliest' }));
    const reason = `line one\nline two\r\u0000\u0007\u001b[31mred\u007f\u0085end ${'x'.repeat(2_000)}`;
    await deadLetter(delivery, reason, 1, { topic: 'custom.dlq' });
    const dead = await firstValueFrom(bus.consume('custom.dlq', { group: 'ops' }));
    expect(Buffer.from(dead.message.body).equals(Buffer.from(body))).toBe(true);
    const header = dead.message.headers.deadletterreason!;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none
    expect(header).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(header.startsWith('line one line two [31mred end x')).toBe(true);
    expect(header.length).toBeLessThanOrEqual(1_024);
    expect(dead.message.key).toBeUndefined();
    expect(dead.invalid).toBeUndefined();
    await Promise.all([delivery.ack(), dead.ack()]);
    await bus.close();
  });

  it('rejects when the dead-letter publish fails, so the caller does not ack', async () => {
    const bus = await setup();
    await bus.publish('orders', { type: 't', data: { big: 'x' } });
    const delivery = await firstValueFrom(bus.consume('orders', { group: 'billing', from: 'earliest' }));
    await bus.close({ drainTimeoutMs: 0 });
    await expect(deadLetter(delivery, 'r', 1)).rejects.toThrow(/closed/);
  });
});

it('createEvent keeps reason-like values free of control characters (sanity for replay)', () => {
  expect(() => createEvent({ type: 't', extensions: { deadletterreason: 'a\nb' } }, 's')).toThrow();
});

describe('keepDeadLetters', () => {
  function countingTransport(failFirst: boolean) {
    const calls: string[] = [];
    let fail = failFirst;
    return {
      calls,
      capabilities: { replay: false } as Capabilities,
      async provision(topic: string, group?: string, from?: 'latest' | 'earliest') {
        calls.push(`${topic}/${group ?? ''}/${from ?? ''}`);
        if (fail) {
          fail = false;
          throw new Error('broker down');
        }
      },
    };
  }

  it('provisions DEAD_LETTER_GROUP once per DLQ topic, from latest where the broker cannot replay', async () => {
    const transport = countingTransport(false);
    await Promise.all([keepDeadLetters(transport, 'a.dlq'), keepDeadLetters(transport, 'a.dlq')]);
    await keepDeadLetters(transport, 'a.dlq');
    await keepDeadLetters(transport, 'b.dlq');
    expect(transport.calls).toEqual([
      'a.dlq//',
      `a.dlq/${DEAD_LETTER_GROUP}/latest`,
      'b.dlq//',
      `b.dlq/${DEAD_LETTER_GROUP}/latest`,
    ]);
  });

  it('forgets a failure, so the next dead letter provisions again', async () => {
    const transport = countingTransport(true);
    await expect(keepDeadLetters(transport, 'a.dlq')).rejects.toThrow(/broker down/);
    await keepDeadLetters(transport, 'a.dlq');
    expect(transport.calls).toEqual(['a.dlq//', 'a.dlq//', `a.dlq/${DEAD_LETTER_GROUP}/latest`]);
  });

  it('a dead letter on a bus with no group on its DLQ is kept for DEAD_LETTER_GROUP, from earliest on memory://', async () => {
    const bus = await connect({ url: `memory://${uniqueName('dlq')}`, source: 'test' });
    await bus.provision('orders', { groups: ['billing'] });
    const sent = await bus.publish('orders', { type: 't', data: 1 });
    const delivery = await firstValueFrom(bus.consume('orders', { group: 'billing', from: 'earliest' }));
    await deadLetter(delivery, 'r', 1);
    const dead = await firstValueFrom(bus.consume('orders.billing.dlq', { group: DEAD_LETTER_GROUP }));
    expect(dead.event?.id).toBe(sent.id);
    await Promise.all([delivery.ack(), dead.ack()]);
    await bus.close();
  });
});

describe('a dead letter too large for the DLQ', () => {
  const LIMIT = 4_096;
  const letter = (bodyBytes: number, reason: string): WireMessage => ({
    headers: { specversion: '1.0', id: 'x', source: 's', type: 't', deadletterreason: reason },
    body: new Uint8Array(bodyBytes),
  });

  it('fitted(): as it is when it fits, the reason cut short next, the body dropped last', () => {
    const small = letter(100, 'r'.repeat(1_000));
    expect(fitted(small, LIMIT)).toBe(small);
    expect(fitted(small, undefined)).toBe(small);

    const near = letter(LIMIT - 600, 'r'.repeat(1_000));
    const cut = fitted(near, LIMIT);
    expect(encodedSize(cut)).toBeLessThanOrEqual(LIMIT);
    expect(cut.headers.deadletterreason).toBe('r'.repeat(128));
    expect(cut.body).toBe(near.body);
    expect(cut.headers.deadletterbodybytes).toBeUndefined();

    const full = letter(LIMIT, 'handler failed');
    const dropped = fitted(full, LIMIT);
    expect(encodedSize(dropped)).toBeLessThanOrEqual(LIMIT);
    expect(dropped.body.byteLength).toBe(0);
    expect(dropped.headers.deadletterbodybytes).toBe(String(LIMIT));
    expect(dropped.headers.deadletterreason).toBe(
      `body of ${LIMIT} bytes dropped (the dead letter would exceed ${LIMIT}); handler failed`,
    );
    expect(dropped.headers.id).toBe('x');
  });

  it('fitted(): a letter whose headers alone exceed the limit keeps the required and deadletter* attributes; cut as a last resort', () => {
    const huge: WireMessage = {
      headers: {
        specversion: '1.0',
        id: 'x',
        source: 's',
        type: 't',
        foreignextension: 'e'.repeat(LIMIT),
        deadletterreason: 'handler failed',
        deadlettertopic: 'orders',
      },
      body: new Uint8Array(100),
      key: 'k',
    };
    const kept = fitted(huge, LIMIT);
    expect(encodedSize(kept)).toBeLessThanOrEqual(LIMIT);
    expect(kept.headers.foreignextension).toBeUndefined();
    expect(kept.headers).toMatchObject({ specversion: '1.0', id: 'x', source: 's', type: 't' });
    expect(kept.headers.deadlettertopic).toBe('orders');
    expect(kept.headers.deadletterbodybytes).toBe('100');
    expect(kept.headers.deadletterreason).toMatch(/^body of 100 bytes and extension attributes dropped/);
    expect(kept.key).toBe('k');

    const absurd: WireMessage = { ...huge, headers: { ...huge.headers, id: 'i'.repeat(LIMIT) } };
    const cut = fitted(absurd, LIMIT);
    expect(encodedSize(cut)).toBeLessThanOrEqual(LIMIT);
    expect(cut.headers.id).toBe('i'.repeat(256));
  });

  it('through handle(): dead-lettered once, never given back for ever; a bodyless letter is not redriven', async () => {
    const bus = new Bus(new MemoryTransport(uniqueName('dl-big'), { maxMessageBytes: LIMIT }), {
      source: 'test',
    });
    await bus.provision('orders', { groups: ['billing'] });
    const near = await bus.publish('orders', { type: 't', data: 'y'.repeat(LIMIT - 800), key: 'k' });
    // Exactly at the limit, as a foreign producer's record can be on a broker that allows more.
    const headers = {
      specversion: '1.0',
      id: 'at-limit',
      source: 's',
      type: 't',
      datacontenttype: 'text/plain',
    };
    const headerBytes = encodedSize({ headers, body: new Uint8Array(0) });
    const atLimit: WireMessage = { headers, body: new Uint8Array(LIMIT - headerBytes).fill(0x61) };
    expect(encodedSize(atLimit)).toBe(LIMIT);
    await bus.publishWire('orders', [atLimit]);

    const outcomes: Outcome[] = [];
    const sub = bus
      .consume('orders', { group: 'billing' })
      .pipe(
        handle(() => {
          throw new NonRetryableError(`no: ${'e'.repeat(2_000)}`);
        }),
      )
      .subscribe((o) => outcomes.push(o));
    await until(() => outcomes.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    sub.unsubscribe();
    expect(outcomes.map((o) => [o.event?.id, o.kind])).toEqual([
      [near.id, 'deadLettered'],
      ['at-limit', 'deadLettered'],
    ]);

    const letters = await bus.deadLetters('orders', { group: 'billing' }).inspect({ limit: 10 });
    expect(letters.map((l) => l.id)).toEqual([near.id, 'at-limit']);
    // The one near the limit went with its body and a shortened reason.
    expect(letters[0]!.data).toBe(near.data);
    expect(letters[1]!.headers.deadletterbodybytes).toBeDefined();
    expect(letters[0]!.reason).toHaveLength(128);
    expect(letters[0]!.reason).toMatch(/^non-retryable: no: e+$/);
    // A dry run says what the run will find: the bodyless letter fails there too.
    const dry = await bus.deadLetters('orders', { group: 'billing' }).redrive({ dryRun: true });
    expect(dry).toMatchObject({ redriven: 1, failed: 1 });
    const report = await bus.deadLetters('orders', { group: 'billing' }).redrive({ idleMs: 200 });
    expect(report).toMatchObject({ redriven: 1, failed: 1 });
    expect(report.errors[0]).toMatch(/body \(\d+ bytes\) was dropped/);
    await bus.close();
  });
});

async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 5_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
