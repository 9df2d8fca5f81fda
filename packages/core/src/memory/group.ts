import type { TransportDelivery, WireMessage } from '../transport.ts';

export interface Entry {
  readonly message: WireMessage;
  /** Messages of one key wait in one queue; an unkeyed message gets a queue of its own. */
  readonly queue: KeyQueue;
  attempts: number;
  holder: Member | undefined;
}

/** One key's messages, oldest first from `head` on (no Array#shift per ack). */
export interface KeyQueue {
  readonly key: string;
  entries: Entry[];
  head: number;
}

export interface Member {
  readonly prefetch: number;
  unsettled: number;
  /** False once the member unsubscribed: it gets nothing new but may still settle. */
  active: boolean;
  readonly deliver: (delivery: TransportDelivery) => void;
  /** Called once the group has let go of the member: it left and settled all it held, or was released. */
  readonly gone?: () => void;
}

/**
 * One consumer group of one topic: competing members, per-key order across them (the next message
 * of a key is handed out only after the previous one is acked), redelivery with attempt counts.
 */
export class MemoryGroup {
  readonly #queues = new Map<string, KeyQueue>();
  /** Queues whose head message may be handed out now, oldest first, from `#readyHead` on. */
  #ready: KeyQueue[] = [];
  #readyHead = 0;
  readonly #members: Member[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #nextMember = 0;
  #pending = 0;
  #unkeyed = 0;

  /** Messages not yet acked. */
  get depth(): number {
    return this.#pending;
  }

  enqueue(message: WireMessage): void {
    const key = message.key === undefined ? `\u0000${this.#unkeyed++}` : message.key;
    let queue = this.#queues.get(key);
    const fresh = queue === undefined;
    if (queue === undefined) {
      queue = { key, entries: [], head: 0 };
      this.#queues.set(key, queue);
    }
    queue.entries.push({ message, queue, attempts: 0, holder: undefined });
    this.#pending += 1;
    if (fresh) this.#ready.push(queue);
  }

  join(member: Member): void {
    this.#members.push(member);
    this.dispatch();
  }

  /** Members the group still knows, left ones included until they settle what they hold. */
  get memberCount(): number {
    return this.#members.length;
  }

  /** Stop handing `member` anything new; what it holds stays with it until it settles or `release`. */
  leave(member: Member): void {
    member.active = false;
    // A long-lived process subscribes and unsubscribes many times: a left member must not stay.
    if (member.unsettled === 0) this.#drop(member);
  }

  /** The member is gone (its connection closed): whatever it held unsettled goes back to the group. */
  release(member: Member): void {
    member.active = false;
    this.#drop(member);
    for (const queue of this.#queues.values()) {
      const head = queue.entries[queue.head];
      if (head?.holder === member) {
        head.holder = undefined;
        this.#readyFirst(queue);
      }
    }
    this.dispatch();
  }

  #drop(member: Member): void {
    const index = this.#members.indexOf(member);
    if (index < 0) return;
    this.#members.splice(index, 1);
    // Keep the round robin on the member it would have picked next.
    if (this.#nextMember > index) this.#nextMember -= 1;
    if (this.#nextMember >= this.#members.length) this.#nextMember = 0;
    member.gone?.();
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  dispatch(): void {
    while (this.#readyHead < this.#ready.length) {
      const member = this.#pickMember();
      if (!member) return;
      const queue = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead++] = undefined as unknown as KeyQueue;
      if (this.#readyHead === this.#ready.length) {
        this.#ready = [];
        this.#readyHead = 0;
      } else if (this.#readyHead > 1_024 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#readyHead);
        this.#readyHead = 0;
      }
      // A queue emptied meanwhile, or one whose head is out already, is skipped.
      const head = queue.entries[queue.head];
      if (!head || head.holder) continue;
      this.#handOut(head, member);
    }
  }

  /** Put a queue first in line (a message given back goes before the ones that waited). */
  #readyFirst(queue: KeyQueue): void {
    if (this.#readyHead > 0) this.#ready[--this.#readyHead] = queue;
    else this.#ready.unshift(queue);
  }

  #pickMember(): Member | undefined {
    const count = this.#members.length;
    for (let i = 0; i < count; i++) {
      const member = this.#members[(this.#nextMember + i) % count]!;
      if (member.active && member.unsettled < member.prefetch) {
        this.#nextMember = (this.#nextMember + i + 1) % count;
        return member;
      }
    }
    return undefined;
  }

  #handOut(entry: Entry, member: Member): void {
    entry.holder = member;
    entry.attempts += 1;
    member.unsettled += 1;
    member.deliver(new MemoryDelivery(this, entry, member));
  }

  /** Settle a hand-out (once: MemoryDelivery sees to that). */
  settle(entry: Entry, member: Member, nack: { delayMs?: number | undefined } | undefined): void {
    member.unsettled -= 1;
    // A member that was released no longer owns the entry: its late settle must not touch it.
    if (entry.holder === member) {
      if (nack === undefined) this.#remove(entry);
      else this.#giveBack(entry, nack.delayMs ?? 0);
    }
    if (!member.active && member.unsettled === 0) this.#drop(member);
    this.dispatch();
  }

  #giveBack(entry: Entry, delayMs: number): void {
    entry.holder = undefined;
    if (delayMs <= 0) {
      this.#readyFirst(entry.queue);
      return;
    }
    // The key stays blocked behind its head until the delay passes: per-key order survives retries.
    this.#after(performance.now() + delayMs, () => {
      this.#readyFirst(entry.queue);
      this.dispatch();
    });
  }

  /**
   * Run `then` no sooner than `due` (performance.now() time). A timer measures from the event
   * loop's cached clock, which may already be behind: it can fire a fraction of a millisecond
   * early, and "redelivered no sooner than delayMs" must hold all the same. Early twice means the
   * timer runs on a clock performance.now() does not follow (a test faking only setTimeout): then
   * the timer is trusted.
   */
  #after(due: number, then: () => void, early = false): void {
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (!early && performance.now() < due) this.#after(due, then, true);
        else then();
      },
      Math.max(1, Math.ceil(due - performance.now())),
    );
    timer.unref();
    this.#timers.add(timer);
  }

  #remove(entry: Entry): void {
    const queue = entry.queue;
    queue.entries[queue.head++] = undefined as unknown as Entry;
    this.#pending -= 1;
    if (queue.head === queue.entries.length) {
      this.#queues.delete(queue.key);
      queue.entries = [];
      queue.head = 0;
      return;
    }
    if (queue.head > 1_024 && queue.head * 2 > queue.entries.length) {
      queue.entries = queue.entries.slice(queue.head);
      queue.head = 0;
    }
    this.#ready.push(queue);
  }
}

const SETTLED = Promise.resolve();

/** One hand-out of one message to one member: settled once, later calls are no-ops. */
class MemoryDelivery implements TransportDelivery {
  readonly message: WireMessage;
  readonly attempt: number;
  readonly #group: MemoryGroup;
  readonly #entry: Entry;
  readonly #member: Member;
  #settled = false;

  constructor(group: MemoryGroup, entry: Entry, member: Member) {
    this.message = entry.message;
    this.attempt = entry.attempts;
    this.#group = group;
    this.#entry = entry;
    this.#member = member;
  }

  ack(): Promise<void> {
    if (!this.#settled) {
      this.#settled = true;
      this.#group.settle(this.#entry, this.#member, undefined);
    }
    return SETTLED;
  }

  nack(options?: { delayMs?: number }): Promise<void> {
    if (!this.#settled) {
      this.#settled = true;
      this.#group.settle(this.#entry, this.#member, options ?? {});
    }
    return SETTLED;
  }
}
