import {
  bounded,
  MAX_TIMER_MS,
  SETTLED_NOW,
  type TransportDelivery,
  type WireMessage,
} from '@switchyard/core/transport';
import type { ConsumerHandlers, FetchedBatch, GroupConsumer, KafkaClient } from './client.ts';
import { withConnectDeadline } from './connect-deadline.ts';
import { recordDelivery } from './delivery.ts';
import { AckNotCommittedError, transportError } from './errors.ts';
import { type Entry, KeyDispatcher } from './key-dispatcher.ts';
import { OffsetTracker } from './offset-tracker.ts';
import type { ResolvedOptions } from './options.ts';
import type { Provisioner } from './topology.ts';

export { brokerAway } from './kafkajs-client.ts';

export interface MemberOptions {
  /** The Kafka client library underneath (kafkajs or @platformatic/kafka). */
  readonly client: KafkaClient;
  readonly provisioner: Provisioner;
  readonly options: ResolvedOptions;
  readonly secrets: readonly string[];
  readonly topic: string;
  readonly group: string;
  readonly prefetch: number;
  readonly from: 'latest' | 'earliest';
  /** When `subscribe()` was called: a new group starts with what was published from then on. */
  readonly since: number;
  readonly deliver: (delivery: TransportDelivery) => void;
  readonly fail: (error: Error) => void;
}

/**
 * Resolves when `wakeAll(waiters)` is called or after `ms`, whichever comes first; `ms` above what
 * a timer keeps (a drainTimeoutMs of Infinity) is no bound, not the 1 ms Node would make it.
 */
function woken(waiters: Set<() => void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      waiters.delete(wake);
      resolve();
    };
    const timer = ms > MAX_TIMER_MS ? undefined : setTimeout(wake, ms);
    waiters.add(wake);
  });
}

function wakeAll(waiters: Set<() => void>): void {
  for (const wake of [...waiters]) wake();
}

/** First wait before the member starts a new consumer in place of one kafkajs gave up on; doubles up to 5 s. */
const REJOIN_MS = 300;

/**
 * Acks of one partition waiting for one commit: one promise for all of them, resolved when a commit
 * of their offsets is done, rejected when the partition is lost before one is.
 */
interface CommitWaiters {
  count: number;
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** Acks of the same partition whose commit failed: the commit that covers these covers them too. */
  earlier: CommitWaiters | undefined;
}

function commitWaiters(): CommitWaiters {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { count: 0, done, resolve, reject, earlier: undefined };
}

/** Slots held by `waiting` and the groups chained to it. */
function heldBy(waiting: CommitWaiters): number {
  let count = 0;
  for (let group: CommitWaiters | undefined = waiting; group; group = group.earlier) count += group.count;
  return count;
}

/** Settle `waiting` and the groups chained to it: resolved, or rejected with `error`. */
function settleWaiters(waiting: CommitWaiters, error?: Error): void {
  for (let group: CommitWaiters | undefined = waiting; group; group = group.earlier) {
    if (error) group.reject(error);
    else group.resolve();
  }
}

interface PartitionState {
  tracker: OffsetTracker | undefined;
  /** Fetching stopped because the member holds too much of this partition uncommitted. */
  paused: boolean;
  /** Acks that moved this partition's commit point since its last commit started (or failed). */
  waiting: CommitWaiters | undefined;
  /** Why the member let the partition go, once it did (a commit still running then fails its acks with it). */
  gone: string | undefined;
}

/** What `#settle` returns for a record whose partition the member dropped while its handler ran. */
const LET_GO: PartitionState = { tracker: undefined, paused: false, waiting: undefined, gone: 'dropped' };

/** A partition in one commit, with the acks that wait for it. */
interface DueCommit {
  readonly partition: number;
  readonly state: PartitionState;
  readonly tracker: OffsetTracker;
  readonly offset: number;
  readonly waiting: CommitWaiters | undefined;
}

/**
 * One subscription = one member of a Kafka consumer group (its own kafkajs consumer).
 *
 * eachBatch never waits for handlers: it tracks each record's offset, queues it by key and
 * returns, so the fetch loop (which serves every partition of a broker) keeps going and the
 * session stays alive however slow a handler is. Records go out through the key dispatcher, at
 * most `prefetch` unsettled. The commit of each partition follows the contiguous settled prefix,
 * so a record in a handler or in a delayed retry is never skipped, and a crash redelivers exactly
 * what was not settled. A partition whose uncommitted window is full is paused at the broker; the
 * last one still fetching waits for room inside eachBatch instead (see `#onBatch`).
 */
export class KafkaMember {
  readonly #o: MemberOptions;
  readonly #dispatcher: KeyDispatcher<WireMessage>;
  readonly #partitions = new Map<number, PartitionState>();
  readonly #window: number;
  #consumer: GroupConsumer | undefined;
  #memberId: string | undefined;
  #started: Promise<void> | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #committing: Promise<void> | undefined;
  #commitAgain: Promise<void> | undefined;
  /** Prefetch slots of acks waiting for their commit (the rest of `outstanding` is in handlers). */
  #awaitingCommit = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Woken when nothing handed out is unsettled any more, or the drain is called off. */
  readonly #drainWaiters = new Set<() => void>();
  /** `stop()` has waited what it will for handlers: a rebalance hold stops waiting too. */
  #drainOver = false;
  #releaseGate: (() => void) | undefined;
  /** Partitions of the current assignment. */
  #assigned: readonly number[] = [];
  /** An eachBatch waiting for its partition's window to drain (see `#roomIn`). */
  readonly #roomWaiters = new Set<() => void>();
  /** A consumer kafkajs gave up on is being replaced (see `#rejoin`). */
  #rejoinTimer: NodeJS.Timeout | undefined;
  #rejoining: Promise<void> | undefined;
  #rejoins = 0;

  constructor(options: MemberOptions) {
    this.#o = options;
    this.#window = options.options.maxUncommittedPerPartition ?? Math.max(4 * options.prefetch, 256);
    this.#dispatcher = new KeyDispatcher<WireMessage>(options.prefetch, (entry) => this.#handOut(entry));
  }

  /** For `inspect`: the member's subscription, its id in the group, and the records it holds unsettled. */
  held(): { topic: string; group: string; memberId: string | undefined; unsettled: number } {
    let unsettled = 0;
    for (const state of this.#partitions.values()) unsettled += state.tracker?.unsettled ?? 0;
    return { topic: this.#o.topic, group: this.#o.group, memberId: this.#memberId, unsettled };
  }

  start(): Promise<void> {
    this.#started ??= this.#start().catch((error: unknown) => {
      if (!this.#stopping) this.#o.fail(error as Error);
    });
    return this.#started;
  }

  async #start(): Promise<void> {
    const { provisioner, topic, group, from, since, options } = this.#o;
    await provisioner.ensureTopic(topic);
    await provisioner.positionGroup(topic, options.groupIdFor(topic, group), from, since);
    await this.#join();
  }

  /** A new consumer in the group: at start, and in place of one the client gave up on. */
  async #join(): Promise<void> {
    const { topic, group, from, options } = this.#o;
    if (this.#stopping) return;
    // Events of a consumer this member has since replaced are not about the current one.
    let consumer: GroupConsumer | undefined;
    const current = () => consumer !== undefined && this.#consumer === consumer;
    const handlers: ConsumerHandlers = {
      onJoin: (memberId, assigned) => {
        if (current()) this.#onJoin(memberId, assigned);
      },
      onRebalancing: () => {
        if (current()) this.#onRebalancing();
      },
      onCrash: (error, restart) => {
        if (current()) this.#onCrash(error, restart);
      },
      onBatch: (batch) => this.#onBatch(batch),
    };
    consumer = this.#o.client.consumer(
      { topic, groupId: options.groupIdFor(topic, group), from, options },
      handlers,
    );
    this.#consumer = consumer;
    try {
      const { connectTimeoutMs, brokers } = this.#o.options;
      await withConnectDeadline(consumer.connect(), connectTimeoutMs, brokers, () => consumer.disconnect());
      await consumer.run();
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw transportError(`Could not join group '${group}' on '${topic}'`, error, this.#o.secrets);
    }
  }

  async #onBatch(batch: FetchedBatch): Promise<void> {
    const { isRunning, isStale, heartbeat } = batch;
    // The loop below never waits, so nothing can stop or revoke the batch while it runs: one look.
    if (this.#stopping || !isRunning() || isStale()) return;
    const partition = batch.partition;
    const state = this.#partition(partition);
    // The whole fetch is taken, even past the window: it is in memory already, and leaving the rest
    // for kafkajs to fetch and decode again cost a quarter more fetching on a backlog drain (37 286
    // records decoded for 30 000). The window is checked after it, so a member holds at most one
    // fetch beyond it.
    for (let index = 0; index < batch.size; index++) {
      const offset = batch.offset(index);
      state.tracker ??= new OffsetTracker(offset);
      // After a rebalance the client refetches a partition this member kept from its committed
      // offset: what is below `fetched` is already here, queued or in a handler.
      if (offset < state.tracker.fetched) continue;
      state.tracker.track(offset);
      const message = batch.message(index);
      this.#dispatcher.add(partition, offset, message.key, message);
    }
    batch.taken();
    const tracker = state.tracker;
    tracker?.fetchedThrough(batch.end);
    this.#dispatcher.pump();
    if (!tracker || tracker.size < this.#window) return;
    // Pausing the last partition still fetching would leave kafkajs sleeping maxWaitTime before it
    // fetches again, however soon the window drains: wait for room here instead. Nothing else of
    // this member is being fetched meanwhile, so nothing is held up by the wait.
    if (
      this.#othersFetching(partition) ||
      !(await this.#roomIn(partition, tracker, heartbeat, isRunning, isStale))
    )
      this.#pause(partition, state);
  }

  /** True when a partition assigned to this member other than `partition` is not paused. */
  #othersFetching(partition: number): boolean {
    return this.#assigned.some((other) => other !== partition && !this.#partitions.get(other)?.paused);
  }

  /**
   * Wait, heartbeating, until `tracker`'s window is half free (the same hysteresis as a resume);
   * false when the member stops, the batch goes stale, or kafkajs stops running first.
   */
  async #roomIn(
    partition: number,
    tracker: OffsetTracker,
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
    isStale: () => boolean,
  ): Promise<boolean> {
    const { heartbeatIntervalMs } = this.#o.options;
    const gone = () =>
      this.#stopping || !isRunning() || isStale() || this.#partitions.get(partition)?.tracker !== tracker;
    // What this batch queued must go out first: only its settling makes room.
    this.#dispatcher.pump();
    while (tracker.size > this.#window / 2) {
      if (gone()) return false;
      await woken(this.#roomWaiters, heartbeatIntervalMs);
      // A rebalance or a lost connection surfaces here and ends the batch, as kafkajs expects.
      await heartbeat();
    }
    return !gone();
  }

  #wakeRoomWaiters(): void {
    wakeAll(this.#roomWaiters);
  }

  readonly #settlement = {
    ack: (entry: Entry<WireMessage>) => this.#ack(entry),
    nack: (entry: Entry<WireMessage>, delayMs: number) => this.#nack(entry, delayMs),
  };

  #handOut(entry: Entry<WireMessage>): void {
    this.#o.deliver(recordDelivery(entry, this.#settlement));
  }

  #ack(entry: Entry<WireMessage>): Promise<void> {
    // The slot stays taken until the commit is done, so prefetch bounds what the bus holds unsettled.
    this.#dispatcher.hold();
    let state: PartitionState | undefined;
    try {
      state = this.#settle(entry);
    } catch (error) {
      this.#afterAck();
      return Promise.reject(error);
    }
    if (state === LET_GO) {
      this.#afterAck();
      return Promise.reject(this.#notCommitted(entry.partition, 'the member let go of the partition'));
    }
    if (!state) {
      this.#afterAck();
      // Nothing to wait for: the bus and handle() go on without a microtask.
      return SETTLED_NOW;
    }
    // Resolve once the offset is committed, so an acked record is not redelivered by a crash. Every
    // ack of the partition the next commit covers shares one promise: no promise per record.
    state.waiting ??= commitWaiters();
    const waiting = state.waiting;
    waiting.count += 1;
    this.#awaitingCommit += 1;
    void this.#commit();
    return waiting.done;
  }

  /**
   * The acked record's offset settled; its partition when it moved the partition's commit point,
   * `LET_GO` when the record's partition was dropped while its handler ran.
   */
  #settle(entry: Entry<WireMessage>): PartitionState | undefined {
    if (!this.#dispatcher.ack(entry)) return LET_GO;
    const state = this.#partitions.get(entry.partition);
    if (!state?.tracker?.settle(entry.offset)) return undefined;
    this.#maybeResume(entry.partition, state);
    if (this.#roomWaiters.size > 0 && state.tracker.size <= this.#window / 2) this.#wakeRoomWaiters();
    return state;
  }

  readonly #afterAck = (): void => {
    this.#dispatcher.release();
    this.#afterSettle();
  };

  /**
   * `count` acks waiting for a commit are over: their offsets were committed, or their partition is
   * gone (see `#drop`). Their slots go.
   */
  #release(count: number): void {
    this.#awaitingCommit -= count;
    this.#dispatcher.release(count);
    this.#afterSettle();
  }

  async #nack(entry: Entry<WireMessage>, delayMs: number): Promise<void> {
    this.#dispatcher.nack(entry, delayMs);
    this.#afterSettle();
  }

  /** Handed out and in a handler still: what a drain waits for (acks waiting for a commit are not). */
  get #inHandlers(): number {
    return this.#dispatcher.outstanding - this.#awaitingCommit;
  }

  #afterSettle(): void {
    if (this.#inHandlers === 0) this.#wakeDrainWaiters();
  }

  #wakeDrainWaiters(): void {
    wakeAll(this.#drainWaiters);
  }

  /** Resolves once nothing handed out is unsettled, after `ms`, or when the drain is called off. */
  #drainedWithin(ms: number): Promise<void> {
    if (this.#inHandlers === 0 || this.#drainOver || ms <= 0) return Promise.resolve();
    return woken(this.#drainWaiters, ms);
  }

  #partition(partition: number): PartitionState {
    const known = this.#partitions.get(partition);
    if (known) return known;
    const state: PartitionState = { tracker: undefined, paused: false, waiting: undefined, gone: undefined };
    this.#partitions.set(partition, state);
    return state;
  }

  #pause(partition: number, state: PartitionState): void {
    if (state.paused) return;
    state.paused = true;
    this.#consumer?.pause([partition]);
  }

  #maybeResume(partition: number, state: PartitionState): void {
    // Half the window as hysteresis: resume once half of it is free, not at the first settled record.
    if (!state.paused || this.#stopping || (state.tracker?.size ?? 0) > this.#window / 2) return;
    state.paused = false;
    this.#consumer?.resume([partition]);
  }

  #onRebalancing(): void {
    // The group is moving partitions: hand out nothing new until the new assignment is known, and
    // commit what is settled now, while this generation may still commit (before the join completes).
    this.#dispatcher.setOpen(false);
    void this.#commit();
  }

  /**
   * Revoke (eager protocol: every partition). Before this member rejoins, the records it handed
   * out settle, within the drain deadline and the group's rebalance timeout, and what settled is
   * committed: the next owner starts after them instead of handling them a second time, while these
   * handlers still run. Queued records not handed out yet are not waited for; they stay uncommitted.
   */
  async #beforeRejoin(heartbeat: () => Promise<void>): Promise<void> {
    this.#dispatcher.setOpen(false);
    const { drainTimeoutMs, rebalanceTimeoutMs, heartbeatIntervalMs } = this.#o.options;
    // The rebalance began up to a heartbeat before this member heard of it; keep a second spare.
    const budget = Math.min(drainTimeoutMs, rebalanceTimeoutMs - heartbeatIntervalMs - 1_000);
    const deadline = Date.now() + budget;
    while (this.#inHandlers > 0 && !this.#drainOver && Date.now() < deadline) {
      await this.#drainedWithin(Math.min(deadline - Date.now(), heartbeatIntervalMs));
      await heartbeat();
    }
    // The commit stays within the same budget: kafkajs retries a failing commit for tens of seconds,
    // and a coordinator that does not answer must not keep the whole group waiting for this member.
    await bounded(this.#commit(), Math.max(0, deadline - Date.now()));
  }

  #onJoin(memberId: string, assigned: readonly number[]): void {
    this.#rejoins = 0;
    const keep = new Set(assigned);
    const sameMember = memberId === this.#memberId;
    this.#memberId = memberId;
    this.#assigned = assigned;
    if (!sameMember) {
      this.#releaseGate?.();
      this.#releaseGate = this.#consumer?.gateRejoin(memberId, (heartbeat) => this.#beforeRejoin(heartbeat));
    }
    for (const partition of [...this.#partitions.keys()]) {
      if (!sameMember || !keep.has(partition)) this.#drop(partition, 'the partition was reassigned');
    }
    if (this.#stopping) {
      this.#consumer?.pause();
      return;
    }
    const toResume = assigned.filter((partition) => !this.#partition(partition).paused);
    // A partition paused in an earlier generation and given back fresh must fetch again.
    if (toResume.length > 0) this.#consumer?.resume(toResume);
    this.#dispatcher.setOpen(true);
  }

  #onCrash(error: Error, restart: boolean): void {
    // The connection is gone and the group may already have given these partitions to another
    // member: nothing fetched on it is handed out or committed again; kafkajs rejoins and refetches.
    this.#dispatcher.setOpen(false);
    for (const partition of [...this.#partitions.keys()])
      this.#drop(partition, 'the member lost its place in the group');
    this.#memberId = undefined;
    this.#releaseGate?.();
    this.#releaseGate = undefined;
    if (restart || this.#stopping) return;
    if (this.#o.client.brokerAway(error)) this.#rejoin();
    else this.#o.fail(transportError(`Consumer of group '${this.#o.group}' stopped`, error, this.#o.secrets));
  }

  /**
   * kafkajs gave up on the consumer (it is stopped and disconnected) over a broker that is away,
   * not over anything wrong: start a new one, with backoff, until the broker answers again. It
   * joins with a new member id and refetches from the committed offsets, as after any crash.
   */
  #rejoin(): void {
    if (this.#stopping || this.#rejoinTimer) return;
    const delay = Math.min(REJOIN_MS * 2 ** this.#rejoins, 5_000);
    this.#rejoins += 1;
    this.#rejoinTimer = setTimeout(() => {
      this.#rejoinTimer = undefined;
      this.#rejoining = this.#join().catch((error: unknown) => {
        if (this.#stopping) return;
        if (this.#o.client.brokerAway(error)) this.#rejoin();
        else this.#o.fail(error as Error);
      });
    }, delay);
  }

  #drop(partition: number, why: string): void {
    const state = this.#partitions.get(partition);
    this.#dispatcher.dropPartition(partition);
    this.#partitions.delete(partition);
    if (state) {
      state.gone = why;
      const waiting = state.waiting;
      state.waiting = undefined;
      if (waiting) this.#lost(partition, state.tracker, waiting, why);
    }
    this.#wakeRoomWaiters();
  }

  /**
   * `waiting`'s partition is no longer this member's: its acks fail unless their offsets were
   * committed already. The next owner starts from the committed offset, so it gets those records again.
   */
  #lost(partition: number, tracker: OffsetTracker | undefined, waiting: CommitWaiters, why: string): void {
    this.#release(heldBy(waiting));
    if (!tracker?.needsCommit()) settleWaiters(waiting);
    else settleWaiters(waiting, this.#notCommitted(partition, why));
  }

  #notCommitted(partition: number, why: string): AckNotCommittedError {
    return new AckNotCommittedError(
      `ack of ${this.#o.topic}[${partition}] not committed: ${why} before its offset was committed; the group redelivers the record`,
    );
  }

  /** Commit every partition's settled prefix; calls made while one runs share the next one. */
  #commit(): Promise<void> {
    if (!this.#committing) {
      this.#committing = this.#commitNow().finally(() => {
        this.#committing = undefined;
      });
      return this.#committing;
    }
    this.#commitAgain ??= this.#committing.then(() => {
      this.#commitAgain = undefined;
      return this.#commit();
    });
    return this.#commitAgain;
  }

  /**
   * Commit each partition's settled prefix and settle the acks waiting for it. Never rejects: a
   * failed commit leaves its acks waiting (and their slots taken) for the retry or the next commit.
   */
  async #commitNow(): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) return;
    const due: DueCommit[] = [];
    let committed = 0;
    // What settled before this commit starts is in the offsets it takes: the acks waiting so far go with it.
    for (const [partition, state] of this.#partitions) {
      const { tracker, waiting } = state;
      state.waiting = undefined;
      if (tracker?.needsCommit())
        due.push({ partition, state, tracker, offset: tracker.committable(), waiting });
      else if (waiting) {
        // An earlier commit took these offsets already.
        committed += heldBy(waiting);
        settleWaiters(waiting);
      }
    }
    if (committed > 0) this.#release(committed);
    if (due.length === 0) return;
    try {
      await consumer.commit(due.map(({ partition, offset }) => ({ partition, offset })));
    } catch {
      this.#commitFailed(due);
      return;
    }
    committed = 0;
    for (const { tracker, offset, waiting } of due) {
      if (offset > tracker.committed) tracker.committed = offset;
      if (waiting) committed += heldBy(waiting);
    }
    if (committed > 0) this.#release(committed);
    for (const { waiting } of due) if (waiting) settleWaiters(waiting);
  }

  #commitFailed(due: readonly DueCommit[]): void {
    // Usually a rebalance. What is still ours waits for this retry or the next ack's commit; what
    // moved to another member meanwhile is redelivered there, and its acks fail.
    for (const { partition, state, tracker, waiting } of due) {
      if (!waiting) continue;
      if (this.#partitions.get(partition) !== state)
        this.#lost(partition, tracker, waiting, state.gone ?? 'the partition was reassigned');
      else if (state.waiting) {
        let last = state.waiting;
        while (last.earlier) last = last.earlier;
        last.earlier = waiting;
      } else state.waiting = waiting;
    }
    if (!this.#stopping && !this.#retryTimer) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        void this.#commit();
      }, 1_000);
    }
  }

  /**
   * Unsubscribe: stop intake at once, give handlers still running up to `drainMs` to settle (a
   * rebalance meanwhile waits for the same handlers, no longer), commit what settled, then leave the
   * group. Queued and unsettled records are not committed: the group redelivers them.
   */
  stop(drainMs = this.#o.options.drainTimeoutMs): Promise<void> {
    this.#stopped ??= this.#stop(drainMs);
    return this.#stopped;
  }

  async #stop(drainMs: number): Promise<void> {
    this.#stopping = true;
    this.#wakeRoomWaiters();
    this.#dispatcher.setOpen(false);
    clearTimeout(this.#rejoinTimer);
    this.#rejoinTimer = undefined;
    await this.#started;
    await this.#rejoining;
    const consumer = this.#consumer;
    if (consumer) {
      try {
        consumer.pause();
      } catch {
        // Not running (its start failed): nothing to pause.
      }
    }
    await this.#drainedWithin(drainMs);
    // A rebalance holding its rejoin for these handlers waits no longer than this stop does.
    this.#drainOver = true;
    this.#wakeDrainWaiters();
    clearTimeout(this.#retryTimer);
    await this.#commit();
    // Acks whose commit failed even now are not committed: the group hands their records out again.
    for (const partition of [...this.#partitions.keys()]) this.#drop(partition, 'the member stopped');
    this.#dispatcher.clear();
    if (consumer) await consumer.disconnect().catch(() => undefined);
    this.#releaseGate?.();
    this.#releaseGate = undefined;
  }
}
