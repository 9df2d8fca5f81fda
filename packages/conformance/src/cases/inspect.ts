import { type Bus, handle, type Inspection, NonRetryableError, type Outcome } from '@switchyard/core';
import { expect } from 'vitest';
import { sleep, until } from '../collect.ts';
import { numbered } from '../events.ts';
import { uniqueName } from '../names.ts';
import type { Case } from './case.ts';

const PUBLISHED = 20;
const POISONED = 3;
/** How long a broker may take to show what happened (the bound). */
const SHOWN_WITHIN_MS = 10_000;

/** Inspect until `done` holds or `SHOWN_WITHIN_MS` passed; the last reading either way. */
async function inspectUntil(
  bus: Bus,
  topic: string,
  done: (reading: Inspection) => boolean,
): Promise<Inspection> {
  const deadline = Date.now() + SHOWN_WITHIN_MS;
  for (;;) {
    const reading = await bus.inspect(topic, { group: 'g' });
    if (done(reading) || Date.now() > deadline) return reading;
    await sleep(250);
  }
}

export const inspectCases: Case[] = [
  {
    id: 'inspect',
    title: `inspect: ${PUBLISHED} published to an idle group → backlog ${PUBLISHED} within 10 s; 0 after draining; ${POISONED} poisoned → ${POISONED} dead letters`,
    timeoutMs: 120_000,
    async run({ bus, note }) {
      const b = await bus();
      expect(typeof b.transport.inspect, `${b.transport.name} implements Transport.inspect`).toBe('function');
      const topic = uniqueName('inspect');
      await b.provision(topic, { groups: ['g'] });
      await b.publishBatch(topic, numbered(PUBLISHED));

      const idle = await inspectUntil(b, topic, (r) => r.backlog === PUBLISHED);
      note('idle', idle);
      expect(idle.backlog).toBe(PUBLISHED);
      // Plain JSON, for a CLI or a dashboard: nothing lost in a round trip.
      expect(JSON.parse(JSON.stringify(idle))).toEqual(idle);
      expect(idle.inFlight ?? 0).toBe(0);
      // No dead letter yet: the deadLetter policy keeps them (DEAD_LETTER_GROUP) from the first one on.
      expect(idle.deadLetters).toBe(0);
      // Where the broker says nobody consumes, that is STOP; where it cannot tell, no claim.
      if (idle.consumers === 0) expect(idle.status).toBe('STOP');
      else expect(idle.consumers).toBeNull();

      const outcomes: Outcome[] = [];
      const subscription = b
        .consume<{ n: number }>(topic, { group: 'g' })
        .pipe(
          handle<{ n: number }>(
            (event) => {
              if (event.data.n < POISONED) throw new NonRetryableError(`poisoned #${event.data.n}`);
            },
            { concurrency: 4 },
          ),
        )
        .subscribe((outcome) => outcomes.push(outcome));
      try {
        await until(
          () => outcomes.filter((o) => o.kind === 'acked' || o.kind === 'deadLettered').length >= PUBLISHED,
          60_000,
          `handled ${outcomes.length} of ${PUBLISHED}`,
        );
        expect(outcomes.filter((o) => o.kind === 'deadLettered')).toHaveLength(POISONED);
        const drained = await inspectUntil(b, topic, (r) => r.backlog === 0 && r.deadLetters === POISONED);
        note('drained', drained);
        expect(drained.backlog).toBe(0);
        expect(drained.inFlight ?? 0).toBe(0);
        expect(drained.deadLetters).toBe(POISONED);
        expect(drained.status).toBe('OK');
      } finally {
        subscription.unsubscribe();
      }
    },
  },
];
