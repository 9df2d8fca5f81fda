import { type Bus, handle, type Outcome } from '@switchyard/core';
import type { Subscription } from 'rxjs';
import { expect } from 'vitest';
import { sleep, until } from '../collect.ts';
import { numbered, publishInBatches } from '../events.ts';
import { uniqueName } from '../names.ts';
import { type Case, type CaseContext, requires } from './case.ts';

interface Member {
  readonly subscription: Subscription;
  /** Handler calls for an event whose `acked` outcome was already recorded (by any member), by attempt. */
  readonly afterAcked: () => AfterAcked;
}

/** At attempt 1 (the broker's own first-delivery count), and at a later attempt. */
interface AfterAcked {
  first: number;
  later: number;
}

/**
 * A member the way users write one: `handle()` with 4 handlers at once, the bus's default prefetch,
 * so when it leaves some events are in flight and most are buffered and given back.
 */
function member(bus: Bus, topic: string, acked: Set<string>, handler?: () => Promise<unknown>): Member {
  const afterAcked: AfterAcked = { first: 0, later: 0 };
  const subscription = bus
    .consume<{ n: number }>(topic, { group: 'g' })
    .pipe(
      handle(
        async (event, ctx) => {
          if (acked.has(event.id)) afterAcked[ctx.attempt === 1 ? 'first' : 'later'] += 1;
          await (handler ? handler() : sleep(1));
        },
        { concurrency: 4, timeoutMs: 0 },
      ),
    )
    .subscribe((outcome: Outcome) => {
      if (outcome.kind === 'acked' && outcome.event) acked.add(outcome.event.id);
    });
  return { subscription, afterAcked: () => afterAcked };
}

/**
 * No handler call for an event after its acked outcome: none at a later attempt, and at attempt 1
 * only what the target declares its broker hands out again on its own (redeliversAfterAck).
 */
function expectNoneAfterAcked(context: CaseContext, counts: AfterAcked): void {
  context.note('duplicatesAfterAcked', counts);
  expect(counts.later, 'handler calls after the acked outcome, at a later attempt').toBe(0);
  const known = context.target.redeliversAfterAck;
  if (counts.first > 0 && known) context.note('redeliveredAfterAckBy', known.why);
  expect(
    counts.first,
    known
      ? `first deliveries after a confirmed ack, beyond the broker's known ${known.max}`
      : 'handler calls after the acked outcome',
  ).toBeLessThanOrEqual(known?.max ?? 0);
}

export const churnCases: Case[] = [
  {
    id: 'ack-after-close',
    title:
      'ack-after-close exactness: a member closed mid-stream (4 in flight, the rest given back) → no event it acked reaches the next member',
    notApplicable: requires('consumerGroups'),
    timeoutMs: 180_000,
    async run(context) {
      const { bus, note } = context;
      const publisher = await bus();
      const topic = uniqueName('aac');
      await publisher.provision(topic, { groups: ['g'] });
      await publishInBatches(publisher, topic, numbered(300), 100);
      const acked = new Set<string>();
      const first = await bus();
      const a = member(first, topic, acked);
      await until(() => acked.size >= 30, 60_000, 'the first member acked fewer than 30');
      await first.close({ drainTimeoutMs: 5_000 });
      a.subscription.unsubscribe();
      const ackedByFirst = new Set(acked);
      const second = await bus();
      const b = member(second, topic, acked);
      await until(() => acked.size >= 300, 120_000, `only ${acked.size} of 300 acked`);
      await sleep(1_000);
      b.subscription.unsubscribe();
      note('ackedByFirst', ackedByFirst.size);
      expectNoneAfterAcked(context, b.afterAcked());
      expect(acked.size).toBe(300);
    },
  },
  {
    id: 'churn',
    title:
      'member churn: 2 000 events, a fresh member every 200 acked → 0 handler calls for an event after its acked outcome',
    notApplicable: requires('consumerGroups'),
    timeoutMs: 600_000,
    async run(context) {
      const { bus, note } = context;
      const publisher = await bus();
      const topic = uniqueName('churn');
      await publisher.provision(topic, { groups: ['g'] });
      await publishInBatches(publisher, topic, numbered(2_000), 100);
      const acked = new Set<string>();
      const duplicates: AfterAcked = { first: 0, later: 0 };
      const count = (m: Member) => {
        const { first, later } = m.afterAcked();
        duplicates.first += first;
        duplicates.later += later;
      };
      let members = 0;
      // Each member joins before the one before it leaves, as in a rolling deploy.
      let previous: { bus: Bus; member: Member } | undefined;
      while (acked.size < 2_000 && members < 30) {
        members += 1;
        const b = await bus();
        const goal = Math.min(2_000, acked.size + 200);
        const m = member(b, topic, acked);
        if (previous) {
          await previous.bus.close({ drainTimeoutMs: 5_000 });
          previous.member.subscription.unsubscribe();
          count(previous.member);
        }
        previous = { bus: b, member: m };
        await until(() => acked.size >= goal, 120_000, `member ${members}: only ${acked.size} acked`);
      }
      if (previous) {
        await previous.bus.close({ drainTimeoutMs: 5_000 });
        count(previous.member);
      }
      note('members', members);
      expect(acked.size).toBe(2_000);
      expectNoneAfterAcked(context, duplicates);
    },
  },
  {
    id: 'give-back-on-leave',
    title:
      'give-back on leave: a member holding 100 events (handlers stuck) closes, 100 more are published → another member has all 200 within 2 s',
    notApplicable: requires('consumerGroups'),
    timeoutMs: 120_000,
    async run({ bus, note }) {
      const publisher = await bus();
      const topic = uniqueName('giveback');
      await publisher.provision(topic, { groups: ['g'] });
      const acked = new Set<string>();
      const holder = await bus();
      let started = 0;
      // The holder's handlers never finish: everything it received is given back when it leaves,
      // and what it asked the broker for but had not received yet must not be left leased to it.
      const a = member(holder, topic, new Set(), () => {
        started += 1;
        return new Promise(() => {});
      });
      await publishInBatches(publisher, topic, numbered(100), 100);
      await until(() => started >= 1, 60_000, 'the holder received nothing');
      const taker = await bus();
      const b = member(taker, topic, acked);
      // Joining may move work (Kafka rebalances); let it settle so the clock below measures the leave.
      await sleep(3_000);
      note('heldAtLeave', 100 - acked.size);
      await holder.close({ drainTimeoutMs: 100 });
      a.subscription.unsubscribe();
      await publishInBatches(publisher, topic, numbered(100, { run: 'after' }), 100);
      const published = Date.now();
      await until(() => acked.size >= 200, 60_000, `only ${acked.size} of 200 reached the other member`);
      const ms = Date.now() - published;
      b.subscription.unsubscribe();
      note('msUntilAllHandled', ms);
      expect(ms).toBeLessThanOrEqual(2_000);
    },
  },
];
