import { kafkajsPrototype } from './kafkajs-internals.ts';

/**
 * Runs before a member sends its JoinGroup for a rebalance; the group waits for it (up to the
 * rebalance timeout). `heartbeat` keeps the member's session alive while it waits.
 */
export type BeforeRejoin = (heartbeat: () => Promise<void>) => Promise<void>;

interface ConsumerGroupInternals {
  memberId: string | null;
  heartbeat(options: { interval: number }): Promise<void>;
}

const gates = new Map<string, BeforeRejoin>();
let installed = false;

/**
 * Let the member `memberId` hold its own rejoin until `before` resolves; returns the release.
 *
 * kafkajs (eager protocol) has no revoke callback: on a rebalance it rejoins at once, and every
 * partition may then go to another member while this one still has records of it in handlers,
 * which the new owner would fetch again from the committed offset. The Java client avoids that by
 * calling onPartitionsRevoked before it sends JoinGroup; Kafka allows commits from the old
 * generation until then. kafkajs sends JoinGroup from ConsumerGroup#joinAndSync, so this wraps that
 * one method, once per process. Member ids are unique, which is what ties a call to its member; a
 * first join (no member id yet) and a rejoin after the coordinator forgot the member pass straight
 * through. A kafkajs without that method leaves rebalances as kafkajs does them.
 */
export function gateRejoin(memberId: string, before: BeforeRejoin): () => void {
  install();
  gates.set(memberId, before);
  return () => {
    if (gates.get(memberId) === before) gates.delete(memberId);
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  const prototype = kafkajsPrototype('consumer/consumerGroup.js');
  const joinAndSync = prototype?.joinAndSync;
  if (!prototype || typeof joinAndSync !== 'function') return;
  prototype.joinAndSync = async function (this: ConsumerGroupInternals) {
    const before = this.memberId ? gates.get(this.memberId) : undefined;
    if (before) {
      // Answered with REBALANCE_IN_PROGRESS, but still counts as alive for the session timeout.
      await before(() => this.heartbeat({ interval: 0 }).catch(() => undefined)).catch(() => undefined);
    }
    return joinAndSync.call(this);
  };
}
