import { KeyedQueue, type Lane } from '../kit/keyed-queue.ts';
import { SETTLED_NOW, SettleOnce } from '../kit/settle-once.ts';
import type { TransportDelivery, WireMessage } from '../transport.ts';

export interface Entry {
  readonly message: WireMessage;
  attempts: number;
  holder: Member | undefined;
  /** When it was enqueued, ms since epoch (for the oldest age `inspect` reports). */
  readonly at: number;
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
  /** Messages of one key wait in one lane; an unkeyed message gets a lane of its own. */
  readonly #queue = new KeyedQueue<Entry>((head) => head.holder === undefined);
  readonly #members: Member[] = [];
  #nextMember = 0;
  #pending = 0;
  #unkeyed = 0;
  #acked = 0;

  /** Messages not yet acked. */
  get depth(): number {
    return this.#pending;
  }

  /** Messages acked since the group was created: its position, for `inspect`. */
  get acked(): number {
    return this.#acked;
  }

  /** Members that still take messages (left ones settling what they hold do not count). */
  get activeMembers(): number {
    return this.#members.filter((member) => member.active).length;
  }

  /** Messages handed out and not yet settled, and when the oldest not yet acked was enqueued. */
  outstanding(): { inFlight: number; oldestAt: number | undefined } {
    let inFlight = 0;
    let oldestAt: number | undefined;
    // A lane's head is its oldest entry, and the only one that can be out.
    for (const lane of this.#queue.lanes()) {
      const head = lane.entries.peek();
      if (head === undefined) continue;
      if (head.holder !== undefined) inFlight += 1;
      if (oldestAt === undefined || head.at < oldestAt) oldestAt = head.at;
    }
    return { inFlight, oldestAt };
  }

  enqueue(message: WireMessage): void {
    const key = message.key === undefined ? `\u0000${this.#unkeyed++}` : message.key;
    this.#queue.add(key, { message, attempts: 0, holder: undefined, at: Date.now() });
    this.#pending += 1;
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
    for (const lane of this.#queue.lanes()) {
      const head = lane.entries.peek();
      if (head?.holder === member) {
        head.holder = undefined;
        this.#queue.again(lane);
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
    this.#queue.stopTimers();
  }

  dispatch(): void {
    while (this.#queue.waiting) {
      const member = this.#pickMember();
      if (!member) return;
      // A lane emptied meanwhile, or one whose head is out already, is skipped.
      const lane = this.#queue.next();
      if (!lane) return;
      this.#handOut(lane, member);
    }
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

  #handOut(lane: Lane<Entry>, member: Member): void {
    const entry = lane.entries.peek()!;
    entry.holder = member;
    entry.attempts += 1;
    member.unsettled += 1;
    member.deliver(new MemoryDelivery(this, lane, entry, member));
  }

  /** Settle a hand-out (once: SettleOnce sees to that); `delayMs` undefined for an ack. */
  settle(lane: Lane<Entry>, entry: Entry, member: Member, delayMs: number | undefined): void {
    member.unsettled -= 1;
    // A member that was released no longer owns the entry: its late settle must not touch it.
    if (entry.holder === member) {
      if (delayMs === undefined) {
        this.#pending -= 1;
        this.#acked += 1;
        this.#queue.done(lane);
      } else {
        entry.holder = undefined;
        this.#queue.again(lane, delayMs, () => this.dispatch());
      }
    }
    if (!member.active && member.unsettled === 0) this.#drop(member);
    this.dispatch();
  }

  /** Every message not yet acked, each key's in order (for `peek`); nothing is handed out or changed. */
  *unacked(): IterableIterator<Entry> {
    for (const lane of this.#queue.lanes()) yield* lane.entries;
  }
}

/** One hand-out of one message to one member: settled once, later calls are no-ops. */
class MemoryDelivery extends SettleOnce {
  readonly #group: MemoryGroup;
  readonly #lane: Lane<Entry>;
  readonly #entry: Entry;
  readonly #member: Member;

  constructor(group: MemoryGroup, lane: Lane<Entry>, entry: Entry, member: Member) {
    super(entry.message, entry.attempts);
    this.#group = group;
    this.#lane = lane;
    this.#entry = entry;
    this.#member = member;
  }

  protected settleAck(): Promise<void> {
    this.#group.settle(this.#lane, this.#entry, this.#member, undefined);
    return SETTLED_NOW;
  }

  protected settleNack(delayMs: number): Promise<void> {
    this.#group.settle(this.#lane, this.#entry, this.#member, delayMs);
    return SETTLED_NOW;
  }
}
