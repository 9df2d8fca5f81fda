import { ClosedError } from '../errors.ts';

/**
 * A transport's open → closed life and the members (consumers, subscriptions) it must stop on
 * close: `close(stop)` runs once, whatever number of times it is called, and once it has begun the
 * transport refuses new work with a `ClosedError` naming it.
 */
export class Lifecycle<M> {
  /** Members still running: added when one starts, deleted when it stops on its own. */
  readonly members = new Set<M>();
  readonly #what: string;
  #closing: Promise<void> | undefined;

  /** `what` names the transport in its ClosedError ('kafka transport'). */
  constructor(what: string) {
    this.#what = what;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The error for work asked of a closed transport. */
  closedError(): ClosedError {
    return new ClosedError(this.#what);
  }

  /** Throws `ClosedError` once `close()` was called. */
  assertOpen(): void {
    if (this.#closing !== undefined) throw this.closedError();
  }

  /**
   * Begin closing (once): stop every member with `stopMember`, all at once, failures ignored,
   * then run `rest` (close the connection). Later calls get the same promise.
   */
  close(stopMember: (member: M) => unknown, rest?: () => Promise<void>): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.members].map(async (member) => stopMember(member)));
      this.members.clear();
      await rest?.();
    })();
    return this.#closing;
  }
}
