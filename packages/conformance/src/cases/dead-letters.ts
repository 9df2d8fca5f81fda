import {
  type Bus,
  DEAD_LETTER_GROUP,
  type DeadLetter,
  type DeadLetters,
  handle,
  memoryIdempotencyStore,
  NonRetryableError,
  type Outcome,
  type SwitchyardEvent,
} from '@switchyard/core';
import { expect } from 'vitest';
import { collect, sleep, until } from '../collect.ts';
import { numbered } from '../events.ts';
import { uniqueName } from '../names.ts';
import type { Case } from './case.ts';

export const deadLetterCases: Case[] = [
  {
    id: 'dead-letters-kept',
    title:
      'dead letters kept: 3 events dead-lettered to the default DLQ with no group on it → all 3 read later through DEAD_LETTER_GROUP',
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('kept');
      await b.provision(topic, { groups: ['g'] });
      const outcomes: Outcome[] = [];
      const sub = b
        .consume(topic, { group: 'g' })
        .pipe(
          handle(
            () => {
              throw new NonRetryableError('poisoned on purpose');
            },
            { concurrency: 3 },
          ),
        )
        .subscribe((o) => outcomes.push(o));
      const sent = await b.publishBatch(topic, numbered(3));
      await until(
        () => outcomes.filter((o) => o.kind === 'deadLettered').length >= 3,
        30_000,
        'the 3 events were not dead-lettered',
      );
      sub.unsubscribe();
      const dlq = `${topic}.g.dlq`;
      expect(new Set(outcomes.map((o) => o.deadLetterTopic))).toEqual(new Set([dlq]));
      // Nobody subscribed to the DLQ before this read: the policy's own group kept them.
      const dead = await collect(b.consume(dlq, { group: DEAD_LETTER_GROUP }), {
        count: 3,
        timeoutMs: 30_000,
      });
      expect(dead.ids.sort()).toEqual(sent.map((e) => e.id).sort());
      for (const d of dead.deliveries)
        expect(d.message.headers.deadletterreason).toMatch(/poisoned on purpose/);
    },
  },
];

/**
 * A consumer of `topic` as group `g`, with an idempotency store, that dead-letters every event while
 * `poisoned()` holds. `calls` counts the handler's successful runs per id.
 */
function poisonable(b: Bus, topic: string, poisoned: () => boolean) {
  const handled = new Map<string, SwitchyardEvent>();
  const calls = new Map<string, number>();
  const deadLettered = new Set<string>();
  const sub = b
    .consume(topic, { group: 'g' })
    .pipe(
      handle(
        (event) => {
          if (poisoned()) throw new NonRetryableError('poisoned on purpose');
          handled.set(event.id, event);
          calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
        },
        { concurrency: 4, idempotency: { store: memoryIdempotencyStore() } },
      ),
    )
    .subscribe((o) => {
      if (o.kind === 'deadLettered' && o.event) deadLettered.add(o.event.id);
    });
  return { handled, calls, deadLettered, stop: () => sub.unsubscribe() };
}

/** Poison `count` events: published to `topic` and dead-lettered by group `g`, to `<topic>.g.dlq`. */
async function poison(b: Bus, topic: string, count: number, poisoned: () => boolean) {
  await b.provision(topic, { groups: ['g'] });
  const consumer = poisonable(b, topic, poisoned);
  const sent = await b.publishBatch(topic, numbered(count));
  await until(() => consumer.deadLettered.size >= count, 30_000, `${count} events were not dead-lettered`);
  return { consumer, ids: sent.map((e) => e.id).sort() };
}

/** Peek until the DLQ shows `count` (brokers may take a moment to settle or commit what was acked). */
async function dlqShows(dlq: DeadLetters, count: number): Promise<DeadLetter[]> {
  let letters: DeadLetter[] = [];
  const started = Date.now();
  for (;;) {
    letters = await dlq.inspect({ limit: 1_000 });
    if (letters.length === count || Date.now() - started > 15_000) return letters;
    await sleep(250);
  }
}

export const redriveCases: Case[] = [
  {
    id: 'dead-letters-redrive',
    title:
      'redrive: 5 poisoned → groups() 5 with the reason, inspect() shows them twice without consuming, a filter matching none and a dry run change nothing; redrive with the handler fixed → all 5 handled, ids unchanged, redrivecount 1, no deadletter*; DLQ empty',
    timeoutMs: 150_000,
    async run({ bus, note }) {
      const b = await bus();
      const topic = uniqueName('redrive');
      let poisoned = true;
      const { consumer, ids } = await poison(b, topic, 5, () => poisoned);
      const dlq = b.deadLetters(topic, { group: 'g' });
      expect(dlq.topic).toBe(`${topic}.g.dlq`);

      const groups = await dlq.groups();
      expect(groups).toHaveLength(1);
      expect(groups[0]).toMatchObject({ type: 'com.switchyard.conformance.numbered', count: 5 });
      expect(groups[0]!.reason).toMatch(/poisoned on purpose/);
      expect(groups[0]!.first! <= groups[0]!.last!).toBe(true);
      const first = await dlq.inspect({ limit: 10 });
      const again = await dlq.inspect({ limit: 10 });
      expect(first.map((l) => l.id).sort()).toEqual(ids);
      expect(again.map((l) => l.id).sort()).toEqual(ids);
      expect(first[0]).toMatchObject({ topic, group: 'g', redriveCount: 0, valid: true });
      expect(await dlq.inspect({ limit: 2 })).toHaveLength(2);
      expect(await dlq.inspect({ filter: (l) => l.id === ids[0] })).toHaveLength(1);

      const dry = await dlq.redrive({ dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, scanned: 5, redriven: 5, parked: 0 });
      const none = await dlq.redrive({ filter: () => false, idleMs: 1_000 });
      expect(none).toMatchObject({ redriven: 0, skipped: 5 });
      expect((await dlqShows(dlq, 5)).map((l) => l.id).sort()).toEqual(ids);

      poisoned = false;
      const report = await dlq.redrive();
      note('redrive', report);
      expect(report).toMatchObject({ redriven: 5, parked: 0, failed: 0, destinations: { [topic]: 5 } });
      await until(() => consumer.handled.size >= 5, 30_000, 'the redriven events were not handled');
      consumer.stop();
      expect([...consumer.handled.keys()].sort()).toEqual(ids);
      for (const event of consumer.handled.values()) {
        expect(event.extensions.redrivecount).toBe('1');
        expect(Object.keys(event.extensions).filter((name) => name.startsWith('deadletter'))).toEqual([]);
      }
      expect(await dlqShows(dlq, 0)).toEqual([]);
    },
  },
  {
    id: 'dead-letters-parked',
    title:
      'maxRedrives: 2 events that always fail, redriven once with maxRedrives 1 → back in the DLQ with redrivecount 1; the next redrive parks both on <dlq>.parked, kept for DEAD_LETTER_GROUP',
    timeoutMs: 150_000,
    async run({ bus, target }) {
      const b = await bus();
      const topic = uniqueName('parked');
      const { consumer, ids } = await poison(b, topic, 2, () => true);
      const dlq = b.deadLetters(topic, { group: 'g' });
      const once = await dlq.redrive({ maxRedrives: 1 });
      expect(once).toMatchObject({ redriven: 2, parked: 0 });
      await until(() => consumer.deadLettered.size >= 2, 30_000, 'not dead-lettered');
      const back = await dlqShows(dlq, 2);
      expect(back.map((l) => l.redriveCount)).toEqual([1, 1]);
      // A letter the first run gave back may reach this one only after the broker's ack deadline.
      const deadline = Date.now() + (target.ackDeadlineMs ?? 0) + 30_000;
      let parkedCount = 0;
      while (parkedCount < 2 && Date.now() < deadline) {
        const twice = await dlq.redrive({ maxRedrives: 1, startTimeoutMs: 5_000 });
        expect(twice).toMatchObject({ redriven: 0, parkedTopic: `${dlq.topic}.parked` });
        parkedCount += twice.parked;
      }
      consumer.stop();
      expect(parkedCount).toBe(2);
      const parked = await collect(b.consume(`${dlq.topic}.parked`, { group: DEAD_LETTER_GROUP }), {
        count: 2,
        timeoutMs: 30_000,
      });
      expect(parked.ids.sort()).toEqual(ids);
      // Parked as they were: still dead letters, with their reason.
      for (const d of parked.deliveries) expect(d.message.headers.deadletterreason).toMatch(/poisoned/);
      expect(await dlqShows(dlq, 0)).toEqual([]);
    },
  },
  {
    id: 'dead-letters-resume',
    title:
      'interrupted redrive: 20 dead letters, redrive at 10/s, its bus closed after ≥ 5 → a second redrive on a new bus finishes: all 20 handled, each once (idempotency store), DLQ empty',
    timeoutMs: 180_000,
    async run({ bus, note, target }) {
      const b = await bus();
      const topic = uniqueName('resume');
      let poisoned = true;
      const { consumer, ids } = await poison(b, topic, 20, () => poisoned);
      poisoned = false;
      const first = await bus();
      const running = first.deadLetters(topic, { group: 'g' }).redrive({ rateLimit: 10 });
      await until(() => consumer.handled.size >= 5, 30_000, 'the first redrive did not get going');
      await first.close({ drainTimeoutMs: 5_000 });
      const interrupted = await running;
      note('interrupted', interrupted);
      expect(interrupted.stopped).toBe('closed');
      expect(interrupted.redriven).toBeLessThan(20);
      const second = await bus();
      // What the closed bus held comes back once the broker takes it back (at worst its ack deadline).
      const deadline = Date.now() + (target.ackDeadlineMs ?? 0) + 30_000;
      let redriven = interrupted.redriven;
      while (consumer.handled.size < 20 && Date.now() < deadline) {
        const rest = await second.deadLetters(topic, { group: 'g' }).redrive({ startTimeoutMs: 5_000 });
        redriven += rest.redriven;
      }
      note('redrivenInAll', redriven);
      expect(redriven).toBeGreaterThanOrEqual(20);
      await until(() => consumer.handled.size >= 20, 30_000, 'not every event was handled after resuming');
      consumer.stop();
      expect([...consumer.handled.keys()].sort()).toEqual(ids);
      // A letter republished twice (its first run closed before the ack) is handled once: same id.
      expect([...consumer.calls.values()].every((n) => n === 1)).toBe(true);
      expect(await dlqShows(second.deadLetters(topic, { group: 'g' }), 0)).toEqual([]);
    },
  },
];
