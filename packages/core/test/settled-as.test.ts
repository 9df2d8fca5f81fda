import { describe, expect, it } from 'vitest';
import { connect } from '../src/connect.ts';
import type { IdempotencyStore } from '../src/idempotency/store.ts';
import { handle } from '../src/policies/handle.ts';
import { idempotent } from '../src/policies/idempotent.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import { uniqueName } from './helpers.ts';

describe('outcomes tell what really happened', () => {
  it('a handler that finishes after the drain deadline gave its delivery back reports released, not acked', async () => {
    const bus = await connect({ url: `memory://${uniqueName('late')}`, source: 'test' });
    await bus.provision('t', { groups: ['g'] });
    const outcomes: Outcome[] = [];
    let finish!: () => void;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    bus
      .consume('t', { group: 'g' })
      .pipe(
        handle(async () => {
          started();
          await finished;
        }),
      )
      .subscribe((o) => outcomes.push(o));
    await bus.publish('t', { type: 'x' });
    await running;
    await bus.close({ drainTimeoutMs: 50 });
    finish();
    await new Promise((r) => setTimeout(r, 20));
    expect(outcomes.map((o) => o.kind)).toEqual(['released']);
    expect(outcomes[0]!.delivery.settledAs).toBe('nack');
  });

  it('a store that fails to record completion still lets the work count as done, and frees the claim', async () => {
    const released: string[] = [];
    const store: IdempotencyStore = {
      claim: async () => 'claimed',
      renew: async () => true,
      complete: async () => {
        throw new Error('store down');
      },
      release: async (key) => void released.push(key),
    };
    const result = await idempotent({ store }, 'k', 1_000, async () => 42);
    expect(result).toEqual({ status: 'done', value: 42 });
    expect(released).toEqual(['k']);
  });
});
