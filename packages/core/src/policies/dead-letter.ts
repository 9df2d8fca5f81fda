import type { Delivery } from '../delivery.ts';
import { DEAD_LETTER_GROUP } from '../ops/stats.ts';
import { encodedSize, type Transport, type WireMessage } from '../transport.ts';

export interface DeadLetterOptions {
  /** Where dead letters go. Default: `<topic>.<group>.dlq`. */
  readonly topic?: string;
}

/** Where `delivery`'s dead letters go (only its topic and group are read, so `bus.inspect()` can ask too). */
export function deadLetterTopic(
  delivery: Pick<Delivery, 'topic' | 'group'>,
  options: DeadLetterOptions | undefined,
): string {
  return options?.topic ?? `${delivery.topic}.${delivery.group}.dlq`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: header values must not carry control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

type Provisioner = Pick<Transport, 'provision' | 'capabilities'>;

/** Per transport (one per bus), the DLQ topics whose DEAD_LETTER_GROUP exists or is being made. */
const kept = new WeakMap<Provisioner, Map<string, Promise<void>>>();

/**
 * Make sure `topic` keeps what is published to it: RabbitMQ, SNS and NATS drop a message no group
 * is bound to, so DEAD_LETTER_GROUP is provisioned before the first dead letter. Once per topic per
 * transport; a failure is forgotten, so the next dead letter tries again (and this one is not acked).
 * From the earliest retained message where the broker can replay (so dead letters written before
 * this group existed count too); elsewhere nothing older is retained for a new group to find.
 */
export function keepDeadLetters(transport: Provisioner, topic: string): Promise<void> {
  const topics = kept.get(transport) ?? new Map<string, Promise<void>>();
  kept.set(transport, topics);
  let keeping = topics.get(topic);
  if (keeping === undefined) {
    const from = transport.capabilities.replay ? 'earliest' : 'latest';
    keeping = transport.provision(topic).then(() => transport.provision(topic, DEAD_LETTER_GROUP, from));
    topics.set(topic, keeping);
    const forgetFailure = () => {
      if (topics.get(topic) === keeping) topics.delete(topic);
    };
    keeping.catch(forgetFailure);
  }
  return keeping;
}

/**
 * Publish the delivery's message unchanged plus the `deadletter*` extensions, and wait for the
 * broker to confirm. The caller acks only after this resolves, so a failure here loses nothing.
 * A dead letter the transport would refuse as too large is cut down until it fits (see `fitted`):
 * refused, it would be given back and fail again for ever, holding its key (and on Kafka its
 * partition's commit) behind it.
 */
export async function deadLetter(
  delivery: Delivery,
  reason: string,
  attempts: number,
  options?: DeadLetterOptions,
): Promise<string> {
  const topic = deadLetterTopic(delivery, options);
  const { message, origin } = delivery;
  if (origin.transport !== undefined) await keepDeadLetters(origin.transport, topic);
  const letter: WireMessage = {
    headers: {
      ...message.headers,
      deadletterreason: reason.replace(CONTROL, ' ').slice(0, REASON_MAX),
      deadletterattempts: String(attempts),
      deadlettertopic: delivery.topic,
      deadlettergroup: delivery.group,
      deadletteredat: new Date().toISOString(),
    },
    body: message.body,
    key: message.key,
  };
  await origin.publishWire(topic, [fitted(letter, origin.transport?.capabilities.maxMessageBytes)]);
  return topic;
}

/** Most characters of a reason a dead letter carries. */
const REASON_MAX = 1024;
/** Characters of the reason kept when it must make room for the body. */
const REASON_SHORT = 128;

/**
 * `letter` within `limit` bytes: as it is when it fits; else with its reason cut short (a message
 * near the limit fits again: the reason is most of what a dead letter adds); else without its body,
 * which `deadletterbodybytes` then gives the size of and the reason says was dropped (a message at
 * the limit already, or over it: a foreign producer's record on a Kafka topic that allows more than
 * Switchyard publishes); else, when its headers alone are too large (a foreign producer's huge
 * extension), with only the required attributes and the `deadletter*` ones, each cut to
 * HEADER_MAX characters if even that is too much. The broker keeps the original where it retains
 * what was consumed (Kafka).
 */
export function fitted(letter: WireMessage, limit: number | undefined): WireMessage {
  if (limit === undefined || encodedSize(letter) <= limit) return letter;
  const reason = letter.headers.deadletterreason ?? '';
  const shorter: WireMessage = {
    ...letter,
    headers: { ...letter.headers, deadletterreason: reason.slice(0, REASON_SHORT) },
  };
  if (encodedSize(shorter) <= limit) return shorter;
  const bytes = letter.body.byteLength;
  const bodyless: WireMessage = {
    headers: {
      ...letter.headers,
      deadletterreason:
        `body of ${bytes} bytes dropped (the dead letter would exceed ${limit}); ${reason}`.slice(
          0,
          REASON_MAX,
        ),
      deadletterbodybytes: String(bytes),
    },
    body: new Uint8Array(0),
    key: letter.key,
  };
  if (encodedSize(bodyless) <= limit) return bodyless;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(bodyless.headers)) {
    if (REQUIRED.has(name) || name.startsWith('deadletter')) kept[name] = value;
  }
  kept.deadletterreason =
    `body of ${bytes} bytes and extension attributes dropped (the dead letter would exceed ${limit}); ${reason}`.slice(
      0,
      REASON_SHORT,
    );
  const headersOnly: WireMessage = { headers: kept, body: bodyless.body, key: letter.key };
  if (encodedSize(headersOnly) <= limit) return headersOnly;
  const cut: Record<string, string> = {};
  for (const [name, value] of Object.entries(kept)) cut[name] = value.slice(0, HEADER_MAX);
  return { headers: cut, body: bodyless.body, key: letter.key?.slice(0, HEADER_MAX) };
}

/** The attributes every CloudEvent has, which a dead letter keeps when its extensions must go. */
const REQUIRED = new Set(['specversion', 'id', 'source', 'type']);
/** Characters a header keeps when only cutting every one of them makes the dead letter fit. */
const HEADER_MAX = 256;
