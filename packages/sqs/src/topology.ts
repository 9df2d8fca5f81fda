import { CreateTopicCommand, ListTopicsCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { UnsupportedOptionError } from '@switchyard/core';
import type { Clients } from './clients.ts';
import { httpStatusOf, isQueueMissing, isQueueNameTaken, transportError } from './errors.ts';
import { groupQueueName, groupQueuePrefix, queueNameOf, snsTopicName, topicQueueName } from './names.ts';
import type { ResolvedOptions } from './options.ts';

/** The fan-out actually in use once `auto` is decided. */
export type Mode = 'sns' | 'queues' | 'none';

/** Where one publish goes: an SNS topic, or the queues of the topic's groups. */
export type Targets =
  | { readonly kind: 'sns'; readonly arn: string }
  | { readonly kind: 'queues'; readonly urls: readonly string[] };

interface Discovery {
  urls: readonly string[];
  at: number;
  running: Promise<readonly string[]> | undefined;
  queued: Promise<readonly string[]> | undefined;
}

// Tag values SQS accepts; a topic or group outside this set simply goes untagged.
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/**
 * Creates and finds what a topic and its groups map to, once per process: SNS topics, group queues
 * and their subscriptions. Every lookup is memoised as a promise, and forgotten when it fails.
 */
export class Topology {
  readonly #clients: Clients;
  readonly #options: ResolvedOptions;
  #mode: Promise<Mode> | undefined;
  readonly #topicArns = new Map<string, Promise<string>>();
  readonly #queues = new Map<string, Promise<string>>();
  /** Group queues of each topic this process provisioned: included even when ListQueues lags. */
  readonly #known = new Map<string, Set<string>>();
  readonly #discovery = new Map<string, Discovery>();

  constructor(clients: Clients, options: ResolvedOptions) {
    this.#clients = clients;
    this.#options = options;
  }

  mode(): Promise<Mode> {
    this.#mode ??= this.#decideMode().catch((error) => {
      this.#mode = undefined;
      throw error;
    });
    return this.#mode;
  }

  async #decideMode(): Promise<Mode> {
    const fanOut = this.#options.fanOut;
    if (fanOut !== 'auto') return fanOut;
    if (this.#options.endpoint === undefined) return 'sns';
    try {
      await this.#clients.sns.send(new ListTopicsCommand({}));
      return 'sns';
    } catch (error) {
      // Any answer that is not a topic list means this endpoint has no SNS (ElasticMQ); a connection
      // that failed says nothing, so it is an error rather than a guess.
      if (httpStatusOf(error) !== undefined) return 'queues';
      throw transportError('probe for SNS', error);
    }
  }

  /** Create the topic and, if given, the group's queue (with its subscription) when missing. */
  async provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void> {
    const mode = await this.mode();
    if (mode === 'none') {
      await this.#topicQueue(topic, from);
      return;
    }
    if (mode === 'sns') await this.#topicArn(topic);
    if (group !== undefined) await this.#groupQueue(mode, topic, group, from);
  }

  /** The queue a member of `group` receives from, provisioned. */
  async queueUrl(topic: string, group: string, from?: 'latest' | 'earliest'): Promise<string> {
    const mode = await this.mode();
    if (mode === 'none') return this.#topicQueue(topic, from);
    if (mode === 'sns') await this.#topicArn(topic);
    return this.#groupQueue(mode, topic, group, from);
  }

  /** Where a publish to `topic` must go right now. */
  async targets(topic: string): Promise<Targets> {
    const mode = await this.mode();
    if (mode === 'sns') return { kind: 'sns', arn: await this.#topicArn(topic) };
    if (mode === 'none') return { kind: 'queues', urls: [await this.#topicQueue(topic)] };
    return { kind: 'queues', urls: await this.#discover(topic) };
  }

  #topicArn(topic: string): Promise<string> {
    return memo(this.#topicArns, topic, async () => {
      const fifo = this.#options.fifo;
      try {
        const created = await this.#clients.sns.send(
          new CreateTopicCommand({
            Name: snsTopicName(this.#options.prefix, topic, fifo),
            ...(fifo ? { Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false' } } : {}),
          }),
        );
        return created.TopicArn!;
      } catch (error) {
        throw transportError('CreateTopic', error);
      }
    });
  }

  #topicQueue(topic: string, from?: 'latest' | 'earliest'): Promise<string> {
    const name = topicQueueName(this.#options.prefix, topic, this.#options.fifo);
    return memo(this.#queues, name, () => this.#ensureQueue(name, { 'switchyard:topic': topic }, from));
  }

  #groupQueue(
    mode: 'sns' | 'queues',
    topic: string,
    group: string,
    from?: 'latest' | 'earliest',
  ): Promise<string> {
    const name = groupQueueName(this.#options.prefix, topic, group, this.#options.fifo);
    return memo(this.#queues, name, async () => {
      const url = await this.#ensureQueue(
        name,
        { 'switchyard:topic': topic, 'switchyard:group': group },
        from,
      );
      if (mode === 'sns') await this.#subscribe(await this.#topicArn(topic), url);
      const known = this.#known.get(topic) ?? new Set<string>();
      known.add(url);
      this.#known.set(topic, known);
      return url;
    });
  }

  async #ensureQueue(
    name: string,
    tags: Record<string, string>,
    from?: 'latest' | 'earliest',
  ): Promise<string> {
    const sqs = this.#clients.sqs;
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    } catch (error) {
      if (!isQueueMissing(error)) throw transportError('GetQueueUrl', error);
    }
    if (from === 'earliest') {
      throw new UnsupportedOptionError(
        "SQS cannot replay: a new group starts at 'latest' (events published after it is provisioned)",
      );
    }
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(this.#options.visibilityTimeoutSeconds),
      ...this.#options.queueAttributes,
    };
    if (this.#options.fifo)
      Object.assign(attributes, { FifoQueue: 'true', ContentBasedDeduplication: 'false' });
    const validTags = Object.fromEntries(Object.entries(tags).filter(([, value]) => TAG_VALUE.test(value)));
    try {
      return (
        await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags: validTags }))
      ).QueueUrl!;
    } catch (error) {
      // Another process created it first, possibly with other attributes: theirs stands.
      if (!isQueueNameTaken(error)) throw transportError('CreateQueue', error);
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    }
  }

  async #subscribe(topicArn: string, queueUrl: string): Promise<void> {
    try {
      const { Attributes } = await this.#clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const queueArn = Attributes!.QueueArn!;
      if (this.#options.manageQueuePolicy) {
        // On AWS an SNS topic may only deliver to a queue whose policy allows it.
        const policy = {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'switchyard-sns',
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: queueArn,
              Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
            },
          ],
        };
        await this.#clients.sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl: queueUrl,
            Attributes: { Policy: JSON.stringify(policy) },
          }),
        );
      }
      await this.#clients.sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: { RawMessageDelivery: 'true' },
          ReturnSubscriptionArn: true,
        }),
      );
    } catch (error) {
      throw transportError('Subscribe', error);
    }
  }

  /**
   * The group queues of `topic`. Each caller gets a list fetched by a request that started after it
   * asked (callers arriving together share one), so a group provisioned before a publish began is in it.
   */
  #discover(topic: string): Promise<readonly string[]> {
    let state = this.#discovery.get(topic);
    if (!state) {
      state = { urls: [], at: Number.NEGATIVE_INFINITY, running: undefined, queued: undefined };
      this.#discovery.set(topic, state);
    }
    const ttl = this.#options.discoveryTtlMs;
    if (ttl > 0 && Date.now() - state.at < ttl) return Promise.resolve(this.#withKnown(topic, state.urls));
    const current = state;
    const start = (): Promise<readonly string[]> => {
      const startedAt = Date.now();
      const running = this.#listGroupQueues(topic).then((urls) => {
        current.urls = urls;
        current.at = startedAt;
        return this.#withKnown(topic, urls);
      });
      current.running = running;
      const clear = () => {
        if (current.running === running) current.running = undefined;
      };
      running.then(clear, clear);
      return running;
    };
    if (!current.running) return start();
    current.queued ??= current.running
      .catch(() => undefined)
      .then(() => {
        current.queued = undefined;
        return start();
      });
    return current.queued;
  }

  #withKnown(topic: string, urls: readonly string[]): readonly string[] {
    const known = this.#known.get(topic);
    return known ? [...new Set([...urls, ...known])] : urls;
  }

  async #listGroupQueues(topic: string): Promise<string[]> {
    const prefix = groupQueuePrefix(this.#options.prefix, topic);
    const fifo = this.#options.fifo;
    const urls: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.#clients.sqs.send(
          new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken: token }),
        );
        for (const url of page.QueueUrls ?? []) {
          if (queueNameOf(url).endsWith('.fifo') === fifo) urls.push(url);
        }
        token = page.NextToken;
      } while (token);
    } catch (error) {
      throw transportError('ListQueues', error);
    }
    return urls;
  }
}

function memo<T>(cache: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = create();
    cache.set(key, value);
    value.catch(() => {
      if (cache.get(key) === value) cache.delete(key);
    });
  }
  return value;
}
