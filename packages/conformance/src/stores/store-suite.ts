import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CaseResult, RESULTS_DIR } from '../results.ts';
import type { StoreTarget, StoreUnderTest } from './store-target.ts';

interface StoreCase {
  readonly id: string;
  readonly title: string;
  readonly notApplicable?: (target: StoreTarget) => string | undefined;
  readonly timeoutMs?: number;
  run(target: StoreTarget, defer: (cleanup: () => unknown) => void): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll an async condition every 100 ms until it holds or `timeoutMs` passes. */
async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, message: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${message}`);
    await sleep(100);
  }
}
const key = (name: string) => `g:${name}-${randomBytes(4).toString('hex')}`;
const token = () => randomBytes(8).toString('hex');

export const storeCases: readonly StoreCase[] = [
  {
    id: 'store-exclusive-claim',
    title: 'two claimers at once → exactly one claimed, the other busy',
    async run(target) {
      const [a, b] = [await target.store(), await target.store({ separateConnection: true })];
      for (let round = 0; round < 20; round++) {
        const k = key('race');
        const answers = await Promise.all([a.claim(k, token(), 30_000), b.claim(k, token(), 30_000)]);
        expect(answers.sort()).toEqual(['busy', 'claimed']);
      }
    },
  },
  {
    id: 'store-done',
    title: 'a completed key answers done to every later claimer; release by a non-owner changes nothing',
    async run(target) {
      const store = await target.store();
      const k = key('done');
      const owner = token();
      expect(await store.claim(k, owner, 30_000)).toBe('claimed');
      await store.release(k, token());
      expect(await store.claim(k, token(), 30_000)).toBe('busy');
      expect(await store.complete(k, owner, 60_000)).toBe(true);
      expect(await store.claim(k, token(), 30_000)).toBe('done');
      const released = key('released');
      const first = token();
      expect(await store.claim(released, first, 30_000)).toBe('claimed');
      await store.release(released, first);
      expect(await store.claim(released, token(), 30_000)).toBe('claimed');
    },
  },
  {
    id: 'store-fencing',
    title: 'an expired lease can be re-claimed; the old owner can then neither renew nor complete it',
    async run(target) {
      const store = await target.store();
      const k = key('fence');
      const [stale, fresh] = [token(), token()];
      expect(await store.claim(k, stale, 200)).toBe('claimed');
      await sleep(400);
      expect(await store.claim(k, fresh, 30_000)).toBe('claimed');
      expect(await store.renew(k, stale, 30_000)).toBe(false);
      expect(await store.complete(k, stale, 60_000)).toBe(false);
      await store.release(k, stale);
      expect(await store.claim(k, token(), 30_000)).toBe('busy');
      expect(await store.complete(k, fresh, 60_000)).toBe(true);
      expect(await store.claim(k, token(), 30_000)).toBe('done');
    },
  },
  {
    id: 'store-expired-untaken',
    title: 'a claim that expired and that nobody took since is still its owner’s to renew and complete',
    async run(target) {
      const store = await target.store();
      const k = key('untaken');
      const owner = token();
      expect(await store.claim(k, owner, 200)).toBe('claimed');
      await sleep(400);
      expect(await store.renew(k, owner, 30_000)).toBe(true);
      expect(await store.claim(k, token(), 30_000)).toBe('busy');
      expect(await store.complete(k, owner, 60_000)).toBe(true);
      expect(await store.claim(k, token(), 30_000)).toBe('done');
    },
  },
  {
    id: 'store-renew',
    title: 'renew keeps a claim past its first lease; a renewed claim is not taken by another member',
    async run(target) {
      const store = await target.store();
      const k = key('renew');
      const owner = token();
      expect(await store.claim(k, owner, 400)).toBe('claimed');
      await sleep(200);
      expect(await store.renew(k, owner, 2_000)).toBe(true);
      await sleep(500);
      expect(await store.claim(k, token(), 30_000)).toBe('busy');
      expect(await store.complete(k, owner, 60_000)).toBe(true);
      expect(await store.renew(k, owner, 2_000)).toBe(false);
    },
  },
  {
    id: 'store-ttl',
    title: 'done expires after its TTL: the key can be claimed again',
    async run(target) {
      const store = await target.store();
      const k = key('ttl');
      const owner = token();
      expect(await store.claim(k, owner, 30_000)).toBe('claimed');
      expect(await store.complete(k, owner, 300)).toBe(true);
      expect(await store.claim(k, token(), 30_000)).toBe('done');
      await sleep(600);
      expect(await store.claim(k, token(), 30_000)).toBe('claimed');
    },
  },
  {
    id: 'store-batch',
    title:
      'claimMany answers in order (claimed / done / busy, a key twice in one window → busy) and completeMany fences',
    async run(target) {
      const store = await target.store();
      const claimMany: NonNullable<StoreUnderTest['claimMany']> =
        store.claimMany?.bind(store) ??
        ((claims, lease) => Promise.all(claims.map((c) => store.claim(c.key, c.token, lease))));
      const completeMany: NonNullable<StoreUnderTest['completeMany']> =
        store.completeMany?.bind(store) ??
        ((entries, ttl) => Promise.all(entries.map((e) => store.complete(e.key, e.token, ttl))));
      const [done, busy, fresh] = [key('b-done'), key('b-busy'), key('b-fresh')];
      const doneOwner = token();
      await store.claim(done, doneOwner, 30_000);
      await store.complete(done, doneOwner, 60_000);
      await store.claim(busy, token(), 30_000);
      const many = Array.from({ length: 200 }, (_, i) => ({ key: `${fresh}-${i}`, token: token() }));
      const claims = [
        { key: done, token: token() },
        { key: busy, token: token() },
        { key: fresh, token: token() },
        { key: fresh, token: token() },
        ...many,
      ];
      const answers = await claimMany(claims, 30_000);
      expect(answers.slice(0, 4)).toEqual(['done', 'busy', 'claimed', 'busy']);
      expect(answers.slice(4).every((a) => a === 'claimed')).toBe(true);
      const completed = await completeMany(
        [{ key: fresh, token: claims[2]!.token }, { key: busy, token: token() }, ...many],
        60_000,
      );
      expect(completed.slice(0, 2)).toEqual([true, false]);
      expect(completed.slice(2).every(Boolean)).toBe(true);
      expect(await store.claim(`${fresh}-7`, token(), 30_000)).toBe('done');
    },
  },
  {
    id: 'store-crash',
    title: 'a SIGKILLed handler holding a claim: busy until its lease ends, then the event is claimed again',
    notApplicable: (target) =>
      target.spawnClaimer ? undefined : (target.crashNotApplicable ?? 'no child process'),
    timeoutMs: 60_000,
    async run(target, defer) {
      const store = await target.store();
      const k = key('crash');
      const child = target.spawnClaimer!(k, token(), 3_000);
      defer(() => child.kill('SIGKILL'));
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      let err = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      await until(
        () => out.includes('claimed') || child.exitCode !== null,
        30_000,
        `the child did not claim: ${err}`,
      );
      expect(out, err).toContain('claimed');
      child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await store.claim(k, token(), 30_000)).toBe('busy');
      const mine = token();
      await until(
        async () => (await store.claim(k, mine, 30_000)) === 'claimed',
        15_000,
        'never re-claimable',
      );
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect(await store.complete(k, mine, 60_000)).toBe(true);
    },
  },
  {
    id: 'store-restart',
    title: 'done marks and live claims survive a restart of the store server',
    notApplicable: (target) =>
      target.privateServer ? undefined : (target.restartNotApplicable ?? 'no private server'),
    timeoutMs: 180_000,
    async run(target, defer) {
      const server = await target.privateServer!();
      defer(() => server.stop());
      const store = await server.store();
      const [done, claimed] = [key('r-done'), key('r-claim')];
      const owner = token();
      expect(await store.claim(done, owner, 60_000)).toBe('claimed');
      expect(await store.complete(done, owner, 600_000)).toBe(true);
      const holder = token();
      expect(await store.claim(claimed, holder, 120_000)).toBe('claimed');
      await server.restart();
      // The store's pool reconnects by itself: the first calls after the restart may fail.
      await until(
        async () => {
          try {
            return (await store.claim(done, token(), 30_000)) === 'done';
          } catch {
            return false;
          }
        },
        60_000,
        'the done mark did not survive the restart',
      );
      expect(await store.claim(claimed, token(), 30_000)).toBe('busy');
      expect(await store.complete(claimed, holder, 600_000)).toBe(true);
    },
  },
];

/**
 * The store conformance suite: every idempotency store (memory, pg, redis) passes the same cases;
 * results go to conformance-results/store/<name>.json for the store matrix.
 */
export function runStoreConformance(target: StoreTarget): void {
  describe(`store conformance: ${target.name}`, () => {
    const results: CaseResult[] = [];
    afterAll(() => {
      const dir = join(RESULTS_DIR, 'store');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, `${target.name}.json`),
        `${JSON.stringify({ store: target.name, finishedAt: new Date().toISOString(), cases: results }, null, 2)}\n`,
      );
    });
    for (const c of storeCases) {
      it(c.title, { timeout: c.timeoutMs ?? 30_000 }, async (test) => {
        const started = performance.now();
        const reason = c.notApplicable?.(target);
        if (reason) {
          results.push({ id: c.id, title: c.title, status: 'n/a', reason, durationMs: 0 });
          test.skip(`n/a: ${reason}`);
          return;
        }
        const cleanups: Array<() => unknown> = [];
        try {
          await c.run(target, (cleanup) => cleanups.push(cleanup));
          results.push({
            id: c.id,
            title: c.title,
            status: 'pass',
            durationMs: Math.round(performance.now() - started),
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          results.push({
            id: c.id,
            title: c.title,
            status: 'fail',
            reason: message.slice(0, 500),
            durationMs: Math.round(performance.now() - started),
          });
          throw error;
        } finally {
          for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
        }
      });
    }
  });
}
