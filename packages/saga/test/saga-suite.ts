// The saga store suite: one set of cases every SagaStore passes (memory here, PostgreSQL in
// @switchyard/postgres). Messages travel over memory:// so only the store differs between runs.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Outcome, type SwitchyardEvent } from '@switchyard/core';
import { encode } from '@switchyard/core/transport';
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Compensation,
  runSaga,
  type SagaStep,
  type SagaStore,
  saga,
  sagaTimeouts,
  type TimeoutData,
} from '../src/index.ts';

/** A backend under test: each open() is one more process sharing the same durable state. */
export interface SagaBackend {
  readonly name: string;
  open(): Promise<{ readonly store: SagaStore; close(): Promise<void> }>;
}

interface TestState {
  readonly starts: number;
  readonly count: number;
  readonly timeouts: number;
  readonly steps: readonly number[];
  readonly status: 'open' | 'done' | 'compensated';
}

type TestEvents = {
  start: { id: string };
  inc: { id: string; slow?: boolean };
  arm: { id: string; afterMs: number };
  disarm: { id: string };
  finish: { id: string };
  'step.done': { id: string; step: number };
  'step.failed': { id: string; step: number };
  t: TimeoutData;
};

const IN = 'saga-in';
const OUT = 'saga-out';

const testSaga = saga<TestState, TestEvents>({
  name: 'test',
  correlate: (e) => (e.data as { id?: string }).id,
  initial: { starts: 0, count: 0, timeouts: 0, steps: [], status: 'open' },
  on: {
    start: (s) => ({ ...s, starts: s.starts + 1 }),
    inc: async (s, e) => {
      // Slow enough that two instances load the same version before either commits.
      if (e.data.slow) await sleep(5);
      return { ...s, count: s.count + 1 };
    },
    arm: (s, e, ctx) => {
      ctx.schedule('t', { afterMs: e.data.afterMs });
      return s;
    },
    disarm: (s, _e, ctx) => {
      ctx.cancel('t');
      return s;
    },
    t: (s, e, ctx) => {
      ctx.send(OUT, { type: 'fired', data: { id: ctx.correlationId, token: e.data.token } });
      return { ...s, timeouts: s.timeouts + 1 };
    },
    finish: (s, _e, ctx) => ctx.complete({ ...s, status: 'done' }),
    'step.done': (s, e, ctx) => {
      ctx.send(OUT, { type: 'step.start', data: { id: ctx.correlationId, step: e.data.step + 1 } });
      return { ...s, steps: [...s.steps, e.data.step] };
    },
    'step.failed': (s, _e, ctx) => {
      const undo: Compensation[] = s.steps.map((step) => ({
        topic: OUT,
        type: 'step.undo',
        data: { id: ctx.correlationId, step },
      }));
      ctx.compensate(undo);
      return ctx.complete({ ...s, status: 'compensated' });
    },
  },
});

export function sagaStoreSuite(backend: SagaBackend): void {
  describe(`saga store: ${backend.name}`, () => {
    const cleanup: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const step of cleanup.splice(0).reverse()) await step();
    });

    /** One "process": its own store handle (connection pool) and bus, on the shared broker. */
    async function instance(broker: string, options: { poll?: boolean; run?: boolean } = {}) {
      const { store, close } = await backend.open();
      const bus = await connect({ url: `memory://${broker}`, source: 'saga-test' });
      const outcomes: Outcome[] = [];
      const steps: SagaStep<TestState>[] = [];
      const subscriptions: Subscription[] = [];
      if (options.run !== false) {
        subscriptions.push(
          bus
            .consume(IN, { group: 'saga', from: 'earliest' })
            .pipe(
              runSaga(testSaga, {
                store,
                timeoutTopic: IN,
                observe: (step) => steps.push(step),
              }),
            )
            .subscribe((o) => outcomes.push(o as Outcome)),
        );
      }
      const poller = options.poll === false ? undefined : sagaTimeouts({ store, bus, intervalMs: 20 });
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await poller?.stop();
        for (const s of subscriptions) s.unsubscribe();
        await bus.close({ drainTimeoutMs: 5_000 });
        await close();
      };
      cleanup.push(stop);
      return { store, bus, outcomes, steps, stop, poller };
    }

    async function world(instances = 1, options: { poll?: boolean } = {}) {
      const broker = `saga-${randomUUID()}`;
      const first = await instance(broker, options);
      await first.bus.provision(IN, { groups: ['saga'] });
      await first.bus.provision(OUT, { groups: ['check'] });
      const all = [first];
      for (let i = 1; i < instances; i++) all.push(await instance(broker, options));
      const out: SwitchyardEvent[] = [];
      const watch = first.bus.consume(OUT, { group: 'check', from: 'earliest' }).subscribe((d) => {
        if (d.event) out.push(d.event);
        void d.ack();
      });
      cleanup.push(() => watch.unsubscribe());
      const acked = () => all.reduce((n, i) => n + i.outcomes.filter((o) => o.kind === 'acked').length, 0);
      const publish = (type: keyof TestEvents, data: object, id?: string) =>
        first.bus.publish(IN, { type, data, ...(id ? { id } : {}) });
      return { broker, instances: all, out, acked, publish };
    }

    async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
      }
    }

    const stateOf = async (store: SagaStore, id: string) => store.load<TestState>('test', id);

    it('a duplicate event does not transition twice', async () => {
      const w = await world(1);
      const id = randomUUID();
      await w.publish('start', { id });
      const eventId = randomUUID();
      await w.publish('inc', { id }, eventId);
      await w.publish('inc', { id }, eventId);
      await until('3 deliveries settled', () => w.acked() === 3);
      const record = await stateOf(w.instances[0]!.store, id);
      expect(record?.state.count).toBe(1);
      expect(record?.version).toBe(2);
      expect(w.instances[0]!.steps.map((s) => s.result)).toEqual([
        'transitioned',
        'transitioned',
        'duplicate',
      ]);
    });

    it('two events for one saga on 2 instances at once: no lost update', async () => {
      const w = await world(2, { poll: false });
      const id = randomUUID();
      await w.publish('start', { id });
      await until('start', async () => (await stateOf(w.instances[0]!.store, id)) !== undefined);
      const n = 30;
      await Promise.all(Array.from({ length: n }, () => w.publish('inc', { id, slow: true })));
      await until(`${n + 1} acked`, () => w.acked() === n + 1, 30_000);
      const record = await stateOf(w.instances[1]!.store, id);
      expect(record?.state.count).toBe(n);
      expect(record?.version).toBe(n + 1);
      // Both instances worked, and they did collide: the case exercised the version check.
      for (const i of w.instances) expect(i.steps.length).toBeGreaterThan(0);
      const conflicts = w.instances.flatMap((i) => i.outcomes).filter((o) => o.kind === 'retrying');
      expect(conflicts.length).toBeGreaterThan(0);
      expect(conflicts.every((o) => o.error?.name === 'SagaConcurrencyError')).toBe(true);
    });

    it('two concurrent start events make one instance', async () => {
      const w = await world(2, { poll: false });
      const ids = Array.from({ length: 10 }, () => randomUUID());
      await Promise.all(ids.flatMap((id) => [w.publish('start', { id }), w.publish('start', { id })]));
      await until('all acked', () => w.acked() === ids.length * 2);
      for (const id of ids) {
        const record = await stateOf(w.instances[0]!.store, id);
        expect(record?.state.starts).toBe(2);
        expect(record?.version).toBe(2);
      }
    });

    it('a step-3 failure sends the compensations of steps 2 and 1, in that order', async () => {
      const w = await world(1, { poll: false });
      const id = randomUUID();
      await w.publish('step.done', { id, step: 1 });
      await w.publish('step.done', { id, step: 2 });
      await w.publish('step.failed', { id, step: 3 });
      await until('undo messages', () => w.out.filter((e) => e.type === 'step.undo').length === 2);
      const mine = w.out.filter((e) => (e.data as { id: string }).id === id);
      expect(mine.map((e) => `${e.type}:${(e.data as { step: number }).step}`)).toEqual([
        'step.start:2',
        'step.start:3',
        'step.undo:2',
        'step.undo:1',
      ]);
      const record = await stateOf(w.instances[0]!.store, id);
      expect(record?.state.status).toBe('compensated');
      expect(record?.completed).toBe(true);
      // The commands carry the conversation on: same correlation id, caused by the failure event.
      const failure = w.instances[0]!.steps.at(-1)!.event;
      for (const undo of mine.slice(2)) {
        expect(undo.causationid).toBe(failure.id);
        expect(undo.correlationid).toBe(failure.correlationid);
        expect(undo.partitionkey).toBe(id);
      }
    });

    it('a timeout fires exactly once with 2 instances polling', async () => {
      const w = await world(2);
      const ids = Array.from({ length: 40 }, () => randomUUID());
      for (const id of ids) await w.publish('arm', { id, afterMs: 100 });
      await until('every timeout fired', () => w.out.filter((e) => e.type === 'fired').length >= ids.length);
      await sleep(300);
      const fired = w.out.filter((e) => e.type === 'fired');
      expect(fired.length).toBe(ids.length);
      expect(new Set(fired.map((e) => (e.data as { id: string }).id))).toEqual(new Set(ids));
      for (const id of ids) expect((await stateOf(w.instances[0]!.store, id))?.state.timeouts).toBe(1);
      // Both pollers were live: the timers were spread or raced, never doubled.
      const handled = w.instances.flatMap((i) => i.steps).filter((s) => s.event.type === 't');
      expect(handled.filter((s) => s.result === 'transitioned').length).toBe(ids.length);
    });

    it('a timeout never fires after completion, nor after it was cancelled', async () => {
      const w = await world(2);
      const done = randomUUID();
      const cancelled = randomUUID();
      await w.publish('arm', { id: done, afterMs: 300 });
      await w.publish('arm', { id: cancelled, afterMs: 300 });
      await w.publish('finish', { id: done });
      await w.publish('disarm', { id: cancelled });
      await until('4 acked', () => w.acked() === 4);
      await sleep(700);
      expect(w.out.filter((e) => e.type === 'fired')).toEqual([]);
      expect((await stateOf(w.instances[0]!.store, done))?.state.timeouts).toBe(0);
      expect((await stateOf(w.instances[0]!.store, cancelled))?.state.timeouts).toBe(0);
    });

    it('a timeout already on its way when the saga completes is ignored', async () => {
      const w = await world(1, { poll: false });
      const id = randomUUID();
      await w.publish('arm', { id, afterMs: 0 });
      await until('armed', async () => (await stateOf(w.instances[0]!.store, id))?.timers.t !== undefined);
      // Fire it, but hold the timeout event back until the saga completed.
      const held: { topic: string; event: SwitchyardEvent }[] = [];
      await until(
        'fired',
        async () =>
          (await w.instances[0]!.store.fireDueTimers(10, async (m) => void held.push(...m))) > 0 ||
          held.length > 0,
      );
      await w.publish('finish', { id });
      await until('finished', async () => (await stateOf(w.instances[0]!.store, id))?.completed === true);
      if (held.length > 0) {
        await w.instances[0]!.bus.publishWire(
          IN,
          held.map((m) => encode(m.event)),
        );
      } else {
        // An outbox store wrote the timeout event itself, ahead of 'finish' on the topic: then it
        // transitioned before completion, which is allowed. Either way it must not count after.
      }
      await until('all acked', () => w.acked() >= 3);
      const record = await stateOf(w.instances[0]!.store, id);
      if (held.length > 0) {
        expect(record?.state.timeouts).toBe(0);
        expect(w.instances[0]!.steps.at(-1)?.result).toBe('completed');
      }
      expect(record?.state.status).toBe('done');
    });

    it('a stale timeout (re-armed since) is ignored', async () => {
      const w = await world(1, { poll: false });
      const id = randomUUID();
      await w.publish('arm', { id, afterMs: 0 });
      await until('armed', async () => (await stateOf(w.instances[0]!.store, id))?.timers.t !== undefined);
      const held: { topic: string; event: SwitchyardEvent }[] = [];
      await until(
        'fired',
        async () => (await w.instances[0]!.store.fireDueTimers(10, async (m) => void held.push(...m))) > 0,
      );
      await w.publish('arm', { id, afterMs: 60_000 });
      await until('re-armed', async () => (await stateOf(w.instances[0]!.store, id))?.version === 2);
      if (held.length > 0)
        await w.instances[0]!.bus.publishWire(
          IN,
          held.map((m) => encode(m.event)),
        );
      await until('3 acked', () => w.acked() === 3);
      expect((await stateOf(w.instances[0]!.store, id))?.state.timeouts).toBe(0);
      expect(w.instances[0]!.steps.at(-1)?.result).toBe('stale');
    });

    it('timeouts survive a process restart', async () => {
      const broker = `saga-${randomUUID()}`;
      const before = await instance(broker, { poll: false });
      await before.bus.provision(IN, { groups: ['saga'] });
      await before.bus.provision(OUT, { groups: ['check'] });
      const id = randomUUID();
      await before.bus.publish(IN, { type: 'arm', data: { id, afterMs: 400 } });
      await until('armed', async () => (await stateOf(before.store, id))?.timers.t !== undefined);
      await before.stop();

      const after = await instance(broker);
      await until(
        'timeout handled after the restart',
        async () => (await stateOf(after.store, id))?.state.timeouts === 1,
      );
      // observe() reports a step once the store's commit has returned to runSaga, which can be
      // after this test's poll (another connection) already sees the committed state.
      await until('its step observed', () => after.steps.some((s) => s.event.type === 't'));
      expect(after.steps.filter((s) => s.event.type === 't').map((s) => s.result)).toEqual(['transitioned']);
    });
  });
}
