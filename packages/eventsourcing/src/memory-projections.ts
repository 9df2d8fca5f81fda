import type { ParkedEvent, ProjectionLease, ProjectionStore } from './projection.ts';
import type { Checkpoint } from './types.ts';

/**
 * Projection checkpoints and locks in process memory. The transaction handed to handlers is
 * `undefined`: a memory read model is updated in place, so a batch that fails halfway is applied
 * again from its start (at-least-once; make handlers idempotent or use PostgreSQL).
 */
export class MemoryProjectionStore implements ProjectionStore<undefined> {
  readonly #checkpoints = new Map<string, Checkpoint>();
  readonly #held = new Map<string, { wake: (() => void)[] }>();
  readonly #active = new Map<string, number>();
  readonly #parked = new Map<string, ParkedEvent[]>();

  async acquire(
    name: string,
    version: number,
    options: { wait: boolean; signal?: AbortSignal },
  ): Promise<ProjectionLease<undefined> | undefined> {
    const key = `${name}@${version}`;
    while (this.#held.has(key)) {
      if (!options.wait || options.signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        this.#held.get(key)!.wake.push(resolve);
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      if (options.signal?.aborted) return undefined;
    }
    const hold = { wake: [] as (() => void)[] };
    this.#held.set(key, hold);
    const lost = new AbortController();
    let released = false;
    return {
      name,
      version,
      lost: lost.signal,
      atomic: false,
      commit: async (from, to, work) => {
        if (released || !this.#at(key, from)) return false;
        await work(undefined);
        this.#checkpoints.set(key, to);
        return true;
      },
      park: async (from, to, event) => {
        if (released || !this.#at(key, from)) return false;
        this.#parked.set(key, [...(this.#parked.get(key) ?? []), event]);
        this.#checkpoints.set(key, to);
        return true;
      },
      reset: async (work) => {
        await work(undefined);
        this.#checkpoints.delete(key);
        this.#parked.delete(key);
      },
      release: async () => {
        if (released) return;
        released = true;
        this.#held.delete(key);
        for (const wake of hold.wake) wake();
      },
    };
  }

  #at(key: string, from: Checkpoint | undefined): boolean {
    const current = this.#checkpoints.get(key);
    return current?.tx === from?.tx && current?.position === from?.position;
  }

  async checkpoint(name: string, version: number): Promise<Checkpoint | undefined> {
    return this.#checkpoints.get(`${name}@${version}`);
  }

  async parked(name: string, version: number): Promise<ParkedEvent[]> {
    return [...(this.#parked.get(`${name}@${version}`) ?? [])];
  }

  async activate(name: string, version: number): Promise<void> {
    this.#active.set(name, version);
  }

  async active(name: string): Promise<number | undefined> {
    return this.#active.get(name);
  }
}
