import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { redactUrl, TransportError } from '@switchyard/core';
import { httpStatusOf } from './errors.ts';
import type { ResolvedOptions } from './options.ts';

/** Emulators accept any key; these are used only with an endpoint and when the chain found none. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'switchyard-emulator', secretAccessKey: 'switchyard-emulator' };
const EMULATOR_REGION = 'us-east-1';

export interface Clients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

/** SQS and SNS clients sharing region, credentials and endpoint. */
export function createClients(options: ResolvedOptions): Clients {
  const config = sharedConfig(options);
  const contact = firstContact(options);
  return {
    sqs: contact.bound(withoutLogger(new SQSClient(config))),
    sns: contact.bound(withoutLogger(new SNSClient(config))),
  };
}

/**
 * The SDK's logger middleware copies every request and reply through its sensitive-data filter for
 * a logger that is a no-op unless one is configured, and Switchyard configures none: on a
 * SendMessageBatch of ten 1 KiB events that copy was ~2 % of the process's CPU. Nothing is logged
 * either way.
 */
function withoutLogger<C extends SQSClient | SNSClient>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

interface Sending {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * Until the endpoint has answered once, each request (its retries included) gets an answer within
 * `connectTimeoutMs` or fails with a TransportError naming the endpoint. The SDK bounds a TCP
 * connect, but a peer that accepts the connection and never answers held a request for its whole
 * timeout (long-poll wait + 15 s), three attempts over: 90 s for a provision(). After the first
 * answer, requests keep the SDK's own timeouts, a long poll's included.
 */
function firstContact(options: ResolvedOptions) {
  const ms = options.connectTimeoutMs;
  const where =
    options.endpoint === undefined
      ? `AWS${options.region ? ` (${options.region})` : ''}`
      : `endpoint ${redactUrl(options.endpoint)}`;
  let answered = false;
  return {
    bound<C>(client: C): C {
      const own = client as unknown as Sending;
      const send = own.send.bind(client);
      own.send = (command, sendOptions) => {
        if (answered) return send(command, sendOptions);
        const deadline = AbortSignal.timeout(ms);
        const abortSignal = sendOptions?.abortSignal
          ? AbortSignal.any([sendOptions.abortSignal, deadline])
          : deadline;
        return send(command, { ...sendOptions, abortSignal }).then(
          (reply) => {
            answered = true;
            return reply;
          },
          (error: unknown) => {
            if (httpStatusOf(error) !== undefined) answered = true;
            else if (deadline.aborted) {
              throw new TransportError(`The SQS ${where} did not answer within ${ms} ms (connectTimeoutMs)`, {
                cause: error,
              });
            }
            throw error;
          },
        );
      };
      return client;
    },
  };
}

function sharedConfig(options: ResolvedOptions): SQSClientConfig {
  const config: SQSClientConfig = {
    // Each command's middleware chain is built once per command type instead of on every request
    // (~2 % of the CPU of a publish or consume loop); Switchyard adds no middleware after creating
    // the clients. A request sent with options (firstContact's deadline) still builds its own.
    cacheMiddleware: true,
    requestHandler: {
      connectionTimeout: Math.min(5_000, options.connectTimeoutMs),
      // A long poll is silent for up to waitTimeSeconds; anything much longer is a dead socket.
      requestTimeout: (options.waitTimeSeconds + 15) * 1_000,
      // Without it, @smithy/node-http-handler 4.x only logs a warning at requestTimeout and the
      // request waits on the dead socket (a poll loop or a publish hung until the OS gives up).
      throwOnRequestTimeout: true,
    },
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.region !== undefined) config.region = options.region;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  if (options.endpoint !== undefined && (options.region === undefined || options.credentials === undefined)) {
    // The standard chains first, as on AWS; an emulator is still reachable when they come up empty.
    // A throwaway client is how the SDK exposes its default chains without importing their packages.
    const defaults = new SQSClient({});
    const chainRegion = defaults.config.region;
    const chainCredentials = defaults.config.credentials;
    defaults.destroy();
    if (options.region === undefined) {
      let region: Promise<string> | undefined;
      config.region = () => {
        region ??= chainRegion().catch(() => EMULATOR_REGION);
        return region;
      };
    }
    if (options.credentials === undefined) {
      // Once the chain has come up empty it is not asked again on every request.
      let empty = false;
      config.credentials = async () => {
        if (empty) return EMULATOR_CREDENTIALS;
        try {
          return await chainCredentials();
        } catch {
          empty = true;
          return EMULATOR_CREDENTIALS;
        }
      };
    }
  }
  return config;
}
