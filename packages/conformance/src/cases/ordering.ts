import { type Bus, backoffSequence, handle } from '@switchyard/core';
import type { Subscription } from 'rxjs';
import { expect } from 'vitest';
import { sleep, until } from '../collect.ts';
import { numbered, publishInBatches } from '../events.ts';
import { uniqueName } from '../names.ts';
import { type Case, requires } from './case.ts';

interface Handled {
  readonly key: string;
  readonly n: number;
  readonly at: number;
}

/** Consume with handle() on every bus; record (key, n) in completion order into one shared log. */
function orderedConsumers(
  buses: Bus[],
  topic: string,
  log: Handled[],
  work: (n: number, attempt: number) => Promise<void>,
  concurrency: number,
  keyOrder: 'member' | 'group' = 'member',
): Subscription[] {
  return buses.map((b) =>
    b
      .consume<{ n: number }>(topic, { group: 'g', prefetch: 64, keyOrder })
      .pipe(
        handle(
          async (event, ctx) => {
            await work(event.data.n, ctx.attempt);
            log.push({ key: event.key!, n: event.data.n, at: performance.now() });
          },
          { concurrency, retry: { maxAttempts: 5, backoff: backoffSequence(300) } },
        ),
      )
      .subscribe(),
  );
}

function perKey(log: Handled[]): Map<string, number[]> {
  const keys = new Map<string, number[]>();
  for (const h of log) {
    const list = keys.get(h.key) ?? [];
    list.push(h.n);
    keys.set(h.key, list);
  }
  return keys;
}

const randomLatency = () => sleep(Math.random() < 0.8 ? 0 : Math.random() * 4);

export const orderingCases: Case[] = [
  {
    id: 'key-order',
    title: 'per-key order: 1 000 events on 16 keys, concurrency 8 → each key handled in publish order',
    notApplicable: requires('keyOrderWithinMember'),
    timeoutMs: 180_000,
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('order');
      await b.provision(topic, { groups: ['g'] });
      const log: Handled[] = [];
      const subs = orderedConsumers([b], topic, log, randomLatency, 8);
      await publishInBatches(b, topic, numbered(1_000, { keys: 16 }));
      await until(() => log.length >= 1_000, 120_000, `only ${log.length} of 1000 handled`);
      for (const s of subs) s.unsubscribe();
      for (const [key, ns] of perKey(log)) expect(ns, key).toEqual([...ns].sort((x, y) => x - y));
      expect(new Set(log.map((h) => h.n)).size).toBe(1_000);
    },
  },
  {
    id: 'key-order-members',
    title:
      'per-key order across 3 group members: 1 000 events on 16 keys, concurrency 8 each → publish order per key',
    notApplicable: (c) => (c.keyOrderAcrossMembers ? undefined : 'needs capability keyOrderAcrossMembers'),
    timeoutMs: 180_000,
    async run({ bus }) {
      const members = await Promise.all([bus(), bus(), bus()]);
      const topic = uniqueName('order3');
      await members[0]!.provision(topic, { groups: ['g'] });
      const log: Handled[] = [];
      const subs = orderedConsumers(members, topic, log, randomLatency, 8, 'group');
      await publishInBatches(members[0]!, topic, numbered(1_000, { keys: 16 }));
      await until(
        () => new Set(log.map((h) => h.n)).size >= 1_000,
        150_000,
        `only ${log.length} of 1000 handled`,
      );
      for (const s of subs) s.unsubscribe();
      for (const [key, ns] of perKey(log)) {
        // A member that joined late may repeat what another had not acked: order, not uniqueness, is the claim here.
        const firsts = ns.filter((n, i) => ns.indexOf(n) === i);
        expect(firsts, key).toEqual([...firsts].sort((x, y) => x - y));
      }
    },
  },
  {
    id: 'retry-holds-key',
    title:
      'a failed-then-retried event on key K holds back later events on K, and other keys keep flowing meanwhile',
    notApplicable: requires('keyOrderWithinMember'),
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('hold');
      await b.provision(topic, { groups: ['g'] });
      const log: Handled[] = [];
      let failedAt = 0;
      const subs = orderedConsumers(
        [b],
        topic,
        log,
        async (n, attempt) => {
          if (n === 16 && attempt === 1) {
            failedAt = performance.now();
            throw new Error('first attempt of n=16 fails');
          }
          await randomLatency();
        },
        4,
      );
      await publishInBatches(b, topic, numbered(160, { keys: 16 }));
      await until(() => log.length >= 160, 60_000, `only ${log.length} of 160 handled`);
      for (const s of subs) s.unsubscribe();
      const k0 = perKey(log).get('k0')!;
      expect(k0).toEqual([0, 16, 32, 48, 64, 80, 96, 112, 128, 144]);
      const retriedAt = log.find((h) => h.n === 16)!.at;
      const othersMeanwhile = log.filter((h) => h.key !== 'k0' && h.at > failedAt && h.at < retriedAt);
      expect(othersMeanwhile.length).toBeGreaterThan(0);
    },
  },
  {
    id: 'backpressure',
    title:
      'backpressure: concurrency 4 with a slow handler over 500 events → peak in flight exactly 4, none lost, unsettled ≤ prefetch',
    timeoutMs: 120_000,
    async run({ bus, note }) {
      const b = await bus();
      const topic = uniqueName('bp');
      await b.provision(topic, { groups: ['g'] });
      await publishInBatches(b, topic, numbered(500));
      let inFlight = 0;
      let peak = 0;
      let peakUnsettled = 0;
      const handled = new Set<number>();
      const sub = b
        .consume<{ n: number }>(topic, { group: 'g', prefetch: 32 })
        .pipe(
          handle(
            async (event) => {
              inFlight += 1;
              peak = Math.max(peak, inFlight);
              peakUnsettled = Math.max(peakUnsettled, b.unsettled);
              await sleep(5);
              inFlight -= 1;
              handled.add(event.data.n);
            },
            { concurrency: 4 },
          ),
        )
        .subscribe();
      await until(() => handled.size >= 500, 100_000, `only ${handled.size} of 500 handled`);
      sub.unsubscribe();
      note('peakUnsettled', peakUnsettled);
      expect(peak).toBe(4);
      expect(peakUnsettled).toBeLessThanOrEqual(32);
    },
  },
];
