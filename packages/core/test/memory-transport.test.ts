import { firstValueFrom, type Subscription, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryBroker } from '../src/memory/broker.ts';
import { MemoryTransport } from '../src/memory/transport.ts';
import type { TransportDelivery, WireMessage } from '../src/transport.ts';
import { turns, uniqueName, waitFor } from './helpers.ts';

const msg = (id: string, key?: string): WireMessage => ({
  headers: { specversion: '1.0', id, source: 's', type: 't' },
  body: new TextEncoder().encode(id),
  key,
});
const idOf = (d: TransportDelivery) => d.message.headers.id!;

describe('memory transport', () => {
  const open: Array<MemoryTransport | Subscription> = [];
  const transport = (name: string) => {
    const t = new MemoryTransport(name);
    open.push(t);
    return t;
  };
  const collect = (t: MemoryTransport, topic: string, group: string, prefetch = 100, from?: 'earliest') => {
    const got: TransportDelivery[] = [];
    const sub = t
      .subscribe(topic, { group, prefetch, ...(from ? { from } : {}) })
      .subscribe((d) => got.push(d));
    open.push(sub);
    return { got, sub };
  };
  afterEach(async () => {
    for (const o of open.splice(0)) {
      if (o instanceof MemoryTransport) await o.close();
      else o.unsubscribe();
    }
  });

  it('fans out across groups and makes members of one group compete', async () => {
    const t = transport(uniqueName('mem'));
    const a1 = collect(t, 'orders', 'a');
    const a2 = collect(t, 'orders', 'a');
    const b = collect(t, 'orders', 'b');
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await t.publish(
      'orders',
      ids.map((id) => msg(id)),
    );
    expect(b.got.map(idOf)).toEqual(ids);
    expect(a1.got.length).toBeGreaterThan(0);
    expect(a2.got.length).toBeGreaterThan(0);
    expect([...a1.got, ...a2.got].map(idOf).sort()).toEqual([...ids].sort());
    for (const d of [...a1.got, ...a2.got, ...b.got]) await d.ack();
  });

  it('keeps per-key order across members: the next message of a key waits for the ack of the previous', async () => {
    const t = transport(uniqueName('mem'));
    const m1 = collect(t, 'orders', 'g');
    const m2 = collect(t, 'orders', 'g');
    await t.publish('orders', [msg('k1', 'K'), msg('k2', 'K'), msg('k3', 'K'), msg('o1', 'O')]);
    const all = () => [...m1.got, ...m2.got];
    expect(all().map(idOf).sort()).toEqual(['k1', 'o1']);
    const acked: string[] = [];
    while (acked.length < 3) {
      const next = all().find((d) => idOf(d).startsWith('k') && !acked.includes(idOf(d)))!;
      acked.push(idOf(next));
      await next.ack();
    }
    expect(acked).toEqual(['k1', 'k2', 'k3']);
  });

  it('hands a member at most prefetch unsettled deliveries', async () => {
    const t = transport(uniqueName('mem'));
    const m = collect(t, 'orders', 'g', 3);
    await t.publish(
      'orders',
      Array.from({ length: 10 }, (_, i) => msg(`m${i}`)),
    );
    expect(m.got).toHaveLength(3);
    await m.got[1]!.ack();
    expect(m.got).toHaveLength(4);
    await m.got[0]!.nack();
    // A nacked message comes back and takes the freed slot.
    expect(m.got.map(idOf)).toEqual(['m0', 'm1', 'm2', 'm3', 'm0']);
  });

  it('redelivers a nacked message with the attempt count increased', async () => {
    const t = transport(uniqueName('mem'));
    const m = collect(t, 'orders', 'g');
    await t.publish('orders', [msg('x')]);
    await m.got[0]!.nack();
    await m.got[1]!.nack();
    expect(m.got.map((d) => [idOf(d), d.attempt])).toEqual([
      ['x', 1],
      ['x', 2],
      ['x', 3],
    ]);
    // Settling twice is a no-op.
    await m.got[2]!.ack();
    await m.got[2]!.nack();
    await turns();
    expect(m.got).toHaveLength(3);
  });

  it('holds a message nacked with a delay, and its key with it, but not other keys', async () => {
    const t = transport(uniqueName('mem'));
    const m = collect(t, 'orders', 'g');
    await t.publish('orders', [msg('a1', 'A'), msg('a2', 'A')]);
    const nackedAt = performance.now();
    await m.got[0]!.nack({ delayMs: 150 });
    await t.publish('orders', [msg('b1', 'B')]);
    expect(m.got.map(idOf)).toEqual(['a1', 'b1']);
    await waitFor(() => m.got.length === 3, 'redelivery');
    expect(performance.now() - nackedAt).toBeGreaterThanOrEqual(145);
    expect(idOf(m.got[2]!)).toBe('a1');
    expect(m.got[2]!.attempt).toBe(2);
    await m.got[2]!.ack();
    expect(m.got.map(idOf)).toEqual(['a1', 'b1', 'a1', 'a2']);
  });

  it('redelivers a message nacked with a delay no sooner than the delay, even when the loop clock lags', async () => {
    const t = transport(uniqueName('mem'));
    const got: Array<{ delivery: TransportDelivery; at: number }> = [];
    open.push(
      t
        .subscribe('orders', { group: 'g', prefetch: 10 })
        .subscribe((delivery) => got.push({ delivery, at: performance.now() })),
    );
    await t.publish('orders', [msg('x')]);
    // Busy for a while in this turn of the event loop: a timer set now counts from the turn's start.
    const busy = performance.now();
    while (performance.now() - busy < 30) {
      // spin
    }
    const nackedAt = performance.now();
    await got[0]!.delivery.nack({ delayMs: 60 });
    await waitFor(() => got.length === 2, 'redelivery');
    expect(got[1]!.at - nackedAt).toBeGreaterThanOrEqual(60);
    await got[1]!.delivery.ack();
  });

  it('retains messages for a group whose members are away, and gives back what a closed member held', async () => {
    const name = uniqueName('mem');
    const t = transport(name);
    await t.provision('orders', 'g');
    await t.publish('orders', [msg('m1')]);
    const first = collect(t, 'orders', 'g');
    expect(first.got.map(idOf)).toEqual(['m1']);
    first.sub.unsubscribe();
    await t.publish('orders', [msg('m2')]);
    expect(first.got).toHaveLength(1);

    // A member of another connection to the same broker gets m2 now; m1 (held, unsettled) after close.
    const other = transport(name);
    const second = collect(other, 'orders', 'g');
    expect(second.got.map(idOf)).toEqual(['m2']);
    await t.close();
    expect(second.got.map((d) => [idOf(d), d.attempt])).toEqual([
      ['m2', 1],
      ['m1', 2],
    ]);
    // The closed member's late settle must not ack what now belongs to someone else.
    await first.got[0]!.ack();
    await second.got[0]!.ack();
    await second.got[1]!.nack();
    expect(second.got.map(idOf)).toEqual(['m2', 'm1', 'm1']);
  });

  it('lets go of a member that unsubscribed once it settled what it held, and keeps the round robin', async () => {
    const name = uniqueName('mem');
    const t = transport(name);
    const group = memoryBroker(name, 0).group('orders', 'g');
    for (let i = 0; i < 1_000; i++) collect(t, 'orders', 'g').sub.unsubscribe();
    expect(group.memberCount).toBe(0);

    // One that leaves holding a delivery stays until it settles it.
    const holder = collect(t, 'orders', 'g');
    await t.publish('orders', [msg('held')]);
    holder.sub.unsubscribe();
    expect(group.memberCount).toBe(1);
    await holder.got[0]!.ack();
    expect(group.memberCount).toBe(0);

    const [a, b, c] = [collect(t, 'orders', 'g'), collect(t, 'orders', 'g'), collect(t, 'orders', 'g')];
    b.sub.unsubscribe();
    await t.publish(
      'orders',
      ['m1', 'm2', 'm3', 'm4'].map((id) => msg(id)),
    );
    expect(a.got.map(idOf)).toEqual(['m1', 'm3']);
    expect(c.got.map(idOf)).toEqual(['m2', 'm4']);
    expect(b.got).toHaveLength(0);
  });

  it("starts a new group at the earliest retained message with from: 'earliest', else at the latest", async () => {
    const t = transport(uniqueName('mem'));
    await t.publish('orders', [msg('old1'), msg('old2')]);
    const earliest = collect(t, 'orders', 'replay', 100, 'earliest');
    const latest = collect(t, 'orders', 'live');
    await t.publish('orders', [msg('new')]);
    expect(earliest.got.map(idOf)).toEqual(['old1', 'old2', 'new']);
    expect(latest.got.map(idOf)).toEqual(['new']);
    // from only applies to a group that does not exist yet.
    const again = collect(t, 'orders', 'live', 100, 'earliest');
    expect(again.got).toHaveLength(0);
  });

  it('copies published bytes and rejects publish after close', async () => {
    const t = transport(uniqueName('mem'));
    await t.provision('orders', 'g');
    const body = new Uint8Array([1, 2, 3]);
    await t.publish('orders', [{ headers: { id: 'x' }, body }]);
    body[0] = 9;
    const [d] = await firstValueFrom(
      t.subscribe('orders', { group: 'g', prefetch: 1 }).pipe(take(1), toArray()),
    );
    expect([...d!.message.body]).toEqual([1, 2, 3]);
    await t.close();
    await expect(t.publish('orders', [msg('y')])).rejects.toThrow(/closed/);
  });
});
