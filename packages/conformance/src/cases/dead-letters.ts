import { DEAD_LETTER_GROUP, handle, NonRetryableError, type Outcome } from '@switchyard/core';
import { expect } from 'vitest';
import { collect, until } from '../collect.ts';
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
