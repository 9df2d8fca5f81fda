import { InvalidNameError } from '@switchyard/core';
import { firstValueFrom } from 'rxjs';
import { expect } from 'vitest';
import { collect } from '../collect.ts';
import { uniqueName } from '../names.ts';
import type { Case } from './case.ts';

/** Names some broker refuses or would read differently: every transport refuses them alike. */
const BAD_TOPICS = [
  'orders placed', // whitespace: not a NATS subject
  'orders/eu', // not a Kafka topic
  'orders:eu', // not a Kafka topic
  'commandes-réglées', // non-ASCII
  'orders.*', // a NATS wildcard
  '.orders', // an empty NATS token
  'orders..eu',
  'orders.',
  'amq.orders', // reserved by RabbitMQ
  'x'.repeat(250), // over Kafka's 249
  '',
];
const BAD_GROUPS = ['billing team', 'billing>', 'billing/eu', ''];

export const nameCases: Case[] = [
  {
    id: 'name-rules',
    title:
      'name rules: 11 topic and 4 group names some broker refuses → InvalidNameError naming the allowed characters on publish, provision and consume; the longest names the rule allows round-trip',
    async run({ bus }) {
      const b = await bus();
      for (const topic of BAD_TOPICS) {
        const publishing = b.publish(topic, { type: 't' });
        await expect(publishing, `publish to '${topic}'`).rejects.toBeInstanceOf(InvalidNameError);
        await expect(b.publish(topic, { type: 't' })).rejects.toThrow(/A-Z a-z 0-9 '_' '-'/);
        await expect(b.provision(topic), `provision '${topic}'`).rejects.toBeInstanceOf(InvalidNameError);
        await expect(
          firstValueFrom(b.consume(topic, { group: 'g' })),
          `consume '${topic}'`,
        ).rejects.toBeInstanceOf(InvalidNameError);
      }
      const topic = uniqueName('names');
      for (const group of BAD_GROUPS) {
        await expect(b.provision(topic, { groups: [group] }), `group '${group}'`).rejects.toBeInstanceOf(
          InvalidNameError,
        );
        await expect(firstValueFrom(b.consume(topic, { group }))).rejects.toThrow(/A-Z a-z 0-9 '_' '-'/);
      }
      // A topic and a group together over 254 characters: RabbitMQ's queue '<topic>:<group>' would not fit.
      const long = `${topic}.${'t'.repeat(249 - topic.length - 1)}`;
      await expect(b.provision(long, { groups: ['g12345'] })).rejects.toThrow(/254/);

      // The longest topic the rule allows, dots and every allowed character class, each on its broker.
      const group = 'G.1_-';
      await b.provision(long, { groups: [group] });
      const sent = await b.publish(long, { type: 't', data: { n: 1 } });
      const got = await collect(b.consume(long, { group }), { count: 1 });
      expect(got.ids).toEqual([sent.id]);
    },
  },
];
