import type { TransportDelivery, WireMessage } from '../transport.ts';

interface Entry {
  readonly message: WireMessage;
  /** Messages of one key wait in one queue; an unkeyed message gets a queue of its own. */
  readonly queueKey: string;
  attempts: number;
  holder: Member | undefined;
}

export interface Member {
  readonly prefetch: number;
  unsettled: number;
  /** False once the member unsubscribed: it gets nothing new but may still settle. */
  active: boolean;
  readonly deliver: (delivery: TransportDelivery) => void;
}

/**
 * One consumer group of one topic: competing members, per-key order across them (the next message
 * of a key is handed out only after the previous one is acked), redelivery with attempt counts.
 */
export class MemoryGroup {
  readonly #queues = new Map<string, Entry[]>();
  /** Keys whose head message may be handed out now, oldest first. */
  readonly #ready: string[] = [];
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
    const queueKey = message.key === undefined ? `\u0000${this.#unkeyed++}` : message.key;
    const queue = this.#queues.get(queueKey);
    const entry: Entry = { message, queueKey, attempts: 0, holder: undefined };
    this.#pending += 1;
    if (queue) {
      queue.push(entry);
    } else {
      this.#queues.set(queueKey, [entry]);
      this.#ready.push(queueKey);
    }
  }

  join(member: Member): void {
    this.#members.push(member);
    this.dispatch();
  }

  /** Stop handing `member` anything new; what it holds stays with it until it settles or `release`. */
  leave(member: Member): void {
    member.active = false;
  }

  /** The member is gone (its connection closed): whatever it held unsettled goes back to the group. */
  release(member: Member): void {
    member.active = false;
    const index = this.#members.indexOf(member);
    if (index >= 0) this.#members.splice(index, 1);
    for (const [queueKey, queue] of this.#queues) {
      const head = queue[0];
      if (head?.holder === member) {
        head.holder = undefined;
        this.#ready.unshift(queueKey);
      }
    }
    this.dispatch();
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  dispatch(): void {
    while (this.#ready.length > 0) {
      const member = this.#pickMember();
      if (!member) return;
      const queueKey = this.#ready.shift()!;
      const head = this.#queues.get(queueKey)?.[0];
      if (!head || head.holder) continue;
      this.#handOut(head, member);
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

  #handOut(entry: Entry, member: Member): void {
    entry.holder = member;
    entry.attempts += 1;
    member.unsettled += 1;
    let settled = false;
    const settle = (after: () => void) => {
      if (settled) return Promise.resolve();
      settled = true;
      member.unsettled -= 1;
      // A member that was released no longer owns the entry: its late settle must not touch it.
      if (entry.holder === member) after();
      this.dispatch();
      return Promise.resolve();
    };
    member.deliver({
      message: entry.message,
      attempt: entry.attempts,
      ack: () => settle(() => this.#remove(entry)),
      nack: (options) =>
        settle(() => {
          entry.holder = undefined;
          const delayMs = options?.delayMs ?? 0;
          if (delayMs <= 0) {
            this.#ready.unshift(entry.queueKey);
            return;
          }
          // The key stays blocked behind its head until the delay passes: per-key order survives retries.
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            this.#ready.unshift(entry.queueKey);
            this.dispatch();
          }, delayMs);
          timer.unref();
          this.#timers.add(timer);
        }),
    });
  }

  #remove(entry: Entry): void {
    const queue = this.#queues.get(entry.queueKey)!;
    queue.shift();
    this.#pending -= 1;
    if (queue.length === 0) this.#queues.delete(entry.queueKey);
    else this.#ready.push(entry.queueKey);
  }
}
