import { expect } from 'vitest';
import { collect } from '../collect.ts';
import { numbered, publishInBatches } from '../events.ts';
import { uniqueName } from '../names.ts';
import { type Case, requires } from './case.ts';

export const groupCases: Case[] = [
  {
    id: 'fan-out',
    title: 'fan-out: 2 groups each get all 50 events',
    notApplicable: requires('consumerGroups'),
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('fan');
      await b.provision(topic, { groups: ['a', 'b'] });
      await publishInBatches(b, topic, numbered(50));
      const [a, c] = await Promise.all([
        collect(b.consume(topic, { group: 'a' }), { count: 50 }),
        collect(b.consume(topic, { group: 'b' }), { count: 50 }),
      ]);
      expect(a.ids).toHaveLength(50);
      expect(c.ids).toHaveLength(50);
      expect(new Set(a.ids)).toEqual(new Set(c.ids));
    },
  },
  {
    id: 'competing-consumers',
    title:
      'competing consumers: 5 members share 5 000 events; union complete; duplicates only after a recorded redelivery',
    notApplicable: requires('consumerGroups'),
    timeoutMs: 300_000,
    async run({ bus, note }) {
      const publisher = await bus();
      const topic = uniqueName('compete');
      await publisher.provision(topic, { groups: ['g'] });
      const members = await Promise.all(Array.from({ length: 5 }, () => bus()));
      const union = new Set<string>();
      const runs = members.map((m) =>
        collect(m.consume(topic, { group: 'g', prefetch: 50 }), {
          stopWhen: () => union.size >= 5_000,
          idleMs: 3_000,
          timeoutMs: 240_000,
          onDelivery: async (d) => {
            await d.ack();
            union.add(d.event!.id);
          },
        }),
      );
      await publishInBatches(publisher, topic, numbered(5_000), 100);
      const results = await Promise.all(runs);
      const seen = new Map<string, number>();
      for (const r of results)
        for (const d of r.deliveries) seen.set(d.event!.id, (seen.get(d.event!.id) ?? 0) + 1);
      note(
        'perMember',
        results.map((r) => r.deliveries.length),
      );
      expect(seen.size).toBe(5_000);
      const redelivered = results.flatMap((r) => r.deliveries).filter((d) => d.attempt > 1).length;
      const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
      note('duplicates', duplicates);
      expect(duplicates).toBeLessThanOrEqual(redelivered);
    },
  },
  {
    id: 'group-per-topic',
    title:
      'a group is per topic: one group name on 2 topics, 2 members each reading one topic → each gets all 20 of its topic',
    notApplicable: requires('consumerGroups'),
    async run({ bus }) {
      const [a, c] = await Promise.all([bus(), bus()]);
      const topics = [uniqueName('gpt-a'), uniqueName('gpt-b')];
      for (const t of topics) await a.provision(t, { groups: ['service'] });
      const sent = await Promise.all(topics.map((t) => a.publishBatch(t, numbered(20, { run: t }))));
      const got = await Promise.all([
        collect(a.consume(topics[0]!, { group: 'service' }), { count: 20 }),
        collect(c.consume(topics[1]!, { group: 'service' }), { count: 20 }),
      ]);
      got.forEach((g, i) => {
        expect(new Set(g.ids), `topic ${i}`).toEqual(new Set(sent[i]!.map((e) => e.id)));
      });
    },
  },
  {
    id: 'retention',
    title: 'retention: events published while all members of a group are away arrive when one comes back',
    notApplicable: requires('persistence'),
    async run({ bus }) {
      const publisher = await bus();
      const topic = uniqueName('ret');
      const first = await bus();
      await first.provision(topic, { groups: ['g'] });
      await publisher.publish(topic, { type: 'before', data: 0 });
      const before = await collect(first.consume(topic, { group: 'g' }), { count: 1 });
      expect(before.ids).toHaveLength(1);
      await first.close();
      const sent = await publisher.publishBatch(topic, numbered(20));
      const back = await bus();
      const after = await collect(back.consume(topic, { group: 'g' }), { count: 20, idleMs: 2_000 });
      expect(new Set(after.ids)).toEqual(new Set(sent.map((e) => e.id)));
    },
  },
];
