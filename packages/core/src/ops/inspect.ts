// `bus.inspect(topic, { group })`: the transport's figures for the group, the depth of its
// dead-letter topic, and a status from the readings this bus took of the group before.
import { NotFoundError, UnsupportedOperationError } from '../errors.ts';
import { assertGroupName } from '../names.ts';
import { deadLetterTopic } from '../policies/dead-letter.ts';
import type { Transport } from '../transport.ts';
import { groupStatus } from './inspect-status.ts';
import type { InspectionWindows } from './inspect-window.ts';
import { DEAD_LETTER_GROUP, type Inspection } from './stats.ts';

export interface InspectOptions {
  readonly group: string;
  /** The group's dead-letter topic when handle() was given `deadLetter: { topic }`. Default: `<topic>.<group>.dlq`. */
  readonly deadLetterTopic?: string;
}

/** One reading of the group, recorded in `windows`; a plain JSON object. */
export async function inspectGroup(
  transport: Transport,
  windows: InspectionWindows,
  topic: string,
  options: InspectOptions,
): Promise<Inspection> {
  const { group } = options;
  assertGroupName(topic, group);
  if (transport.inspect === undefined) {
    throw new UnsupportedOperationError(
      `The ${transport.name} transport cannot inspect groups (it has no inspect())`,
    );
  }
  const dlq = deadLetterTopic(
    { topic, group },
    options.deadLetterTopic === undefined ? undefined : { topic: options.deadLetterTopic },
  );
  const [stats, deadLetters] = await Promise.all([
    transport.inspect(topic, group),
    deadLetterDepth(transport, dlq),
  ]);
  const at = Date.now();
  const consumers = stats.consumers ?? null;
  const window = windows.record(topic, group, {
    at,
    backlog: stats.backlog,
    position: stats.position,
    consumers,
  });
  // Spelled out field by field: what a transport returns may carry more (or class instances).
  return {
    topic,
    group,
    backlog: stats.backlog,
    inFlight: stats.inFlight,
    oldestAgeMs: stats.oldestAgeMs,
    position: stats.position,
    consumers,
    deadLetters,
    status: groupStatus(window),
    at: new Date(at).toISOString(),
    definitions: { ...stats.definitions },
  };
}

/** The backlog of the dead-letter topic's DEAD_LETTER_GROUP; none kept yet (no such topic or group) is 0. */
async function deadLetterDepth(transport: Transport, topic: string): Promise<number | null> {
  try {
    return (await transport.inspect!(topic, DEAD_LETTER_GROUP)).backlog;
  } catch (error) {
    if (error instanceof NotFoundError) return 0;
    throw error;
  }
}
