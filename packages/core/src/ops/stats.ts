// The shared vocabulary of operations (issue #23): what a broker reports about a group's position on
// a topic, what the bus adds to it, and where dead letters are kept. Types only; `bus.inspect()`,
// `bus.deadLetters()` and each transport's `inspect`/`peek` implement them.
import type { WireMessage } from '../transport.ts';

/**
 * Where dead letters are kept: the dead-letter topic (`<topic>.<group>.dlq` by default) with this
 * group provisioned from its start before the first dead letter is published, so every broker
 * retains them even when nobody consumes the DLQ. Redrive and DLQ depth read through this group.
 */
export const DEAD_LETTER_GROUP = 'dead-letters';

/**
 * A transport's figures for one group on one topic, each `null` where the broker cannot tell.
 * `definitions` says in words what each figure counted on this broker (e.g. RabbitMQ without the
 * management API: "ready messages (passive declare); unacked not known").
 */
export interface GroupStats {
  /** Messages published to the topic not yet settled by the group (waiting + in flight). */
  readonly backlog: number | null;
  /** Of those, handed to a member and not yet settled. */
  readonly inFlight: number | null;
  /** Age of the oldest unsettled message, ms, where the broker knows it. */
  readonly oldestAgeMs: number | null;
  /** The group's position where the broker has one (Kafka: sum of committed offsets; JetStream: ack floor), for stall detection. */
  readonly position: string | null;
  /**
   * Members attached to the group where the broker can tell (0: nobody consumes, status STOP);
   * `null` or absent where it cannot (SQS). Optional so stats written before it stay valid.
   */
  readonly consumers?: number | null;
  readonly definitions: {
    readonly backlog: string;
    readonly inFlight: string;
    readonly oldestAge: string;
    /** What `position` is, and `consumers` where the broker reports them. */
    readonly position?: string;
    readonly consumers?: string;
  };
}

/** OK; WARN: backlog growing over the window; STALL: position not moving with backlog > 0; STOP: no member/consumer left. */
export type GroupStatus = 'OK' | 'WARN' | 'STALL' | 'STOP';

/** What `bus.inspect(topic, { group })` returns. */
export interface Inspection extends GroupStats {
  readonly topic: string;
  readonly group: string;
  /** Dead letters kept for this group (the DLQ topic's backlog for DEAD_LETTER_GROUP). */
  readonly deadLetters: number | null;
  readonly status: GroupStatus;
  /** ISO time of the reading. */
  readonly at: string;
}

/** A message read without consuming it (`Transport.peek`). */
export interface PeekedMessage {
  readonly message: WireMessage;
  /** Broker-side time the message was written, ms since epoch, where known. */
  readonly writtenAt: number | null;
}
