// A follow-up that goes through a transactional outbox (ctx.publish with pgInbox) is not sent by the
// handler: a relay sends it later with publishWire. Its trace context must still name the span that
// wrote it (the delivery's process span, under which the README says follow-ups nest), not only the
// cause's creation context: otherwise the relay's send links past the process span.
import { uniqueName } from '@switchyard/conformance';
import { connect, handle, type SwitchyardEvent, type TransactionalIdempotencyStore } from '@switchyard/core';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { formatTraceparent, instrument } from '../src/index.ts';
import { memorySdk, same } from './sdk.ts';

/** An in-process transactional store: the outbox is a list, "committed" when the work returns. */
function outboxStore(written: Array<{ topic: string; event: SwitchyardEvent }>) {
  const done = new Set<string>();
  const store: TransactionalIdempotencyStore<Array<{ topic: string; event: SwitchyardEvent }>> = {
    claim: async () => 'claimed',
    renew: async () => true,
    complete: async () => true,
    release: async () => {},
    async transaction(key, _ttlMs, work) {
      if (done.has(key)) return { status: 'duplicate' };
      const tx: Array<{ topic: string; event: SwitchyardEvent }> = [];
      const value = await work(tx);
      done.add(key);
      written.push(...tx);
      return { status: 'done', value };
    },
    async publishInTransaction(tx, topic, event) {
      tx.push({ topic, event });
    },
  };
  return store;
}

describe('ctx.publish into a transactional outbox', () => {
  it("carries the process span's context, and the relay's send links to it", async () => {
    const sdk = memorySdk();
    const bus = instrument(
      await connect({ url: `memory://${uniqueName('otel')}`, source: 'otel-test' }),
      sdk,
    );
    await bus.provision('orders', { groups: ['billing'] });
    const written: Array<{ topic: string; event: SwitchyardEvent }> = [];
    const done = firstValueFrom(
      bus.consume('orders', { group: 'billing' }).pipe(
        handle(
          async (_event, ctx) => {
            await ctx.publish('invoices', { type: 'invoice', data: {} });
          },
          { idempotency: { store: outboxStore(written), transactional: true } },
        ),
      ),
    );
    const cause = await bus.publish('orders', { type: 'order', data: {} });
    await done;
    const process = sdk.spans().find((s) => s.name === 'process orders')!;
    expect(written).toHaveLength(1);
    const followUp = written[0]!.event;
    expect(followUp.traceparent).toBe(formatTraceparent(process.spanContext()));
    expect(followUp.traceparent).not.toBe(cause.traceparent);
    // No send span yet: nothing was sent. The relay's publishWire makes it, linked to the process span.
    expect(sdk.spans().filter((s) => s.name === 'send invoices')).toEqual([]);
    await bus.publishWire('invoices', [
      { headers: { traceparent: followUp.traceparent!, id: followUp.id }, body: Buffer.from('{}') },
    ]);
    const send = sdk.spans().find((s) => s.name === 'send invoices')!;
    expect(send.links.some((l) => same(l.context, process.spanContext()))).toBe(true);
    await bus.close();
    await sdk.shutdown();
  });

  it('with no SDK the follow-up carries its cause’s traceparent as before', async () => {
    const bus = instrument(await connect({ url: `memory://${uniqueName('otel')}`, source: 'otel-test' }));
    await bus.provision('orders', { groups: ['billing'] });
    const written: Array<{ topic: string; event: SwitchyardEvent }> = [];
    const done = firstValueFrom(
      bus.consume('orders', { group: 'billing' }).pipe(
        handle(
          async (_event, ctx) => {
            await ctx.publish('invoices', { type: 'invoice', data: {} });
          },
          { idempotency: { store: outboxStore(written), transactional: true } },
        ),
      ),
    );
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await bus.publish('orders', { type: 'order', data: {}, traceparent: tp });
    await done;
    expect(written[0]!.event.traceparent).toBe(tp);
    await bus.close();
  });
});
