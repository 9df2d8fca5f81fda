// Every error Switchyard raises is one of these classes, so callers can branch on `instanceof`
// and the consumer pipeline can tell a permanent failure from a passing one.

export class SwitchyardError extends Error {
  override name = 'SwitchyardError';
}

/** `connect()` found no package for the URL's scheme. */
export class TransportNotInstalledError extends SwitchyardError {
  override name = 'TransportNotInstalledError';
  readonly packageName: string;
  constructor(scheme: string, packageName: string, cause?: unknown) {
    super(`The '${scheme}' transport needs ${packageName}: install it with ${installCommand(packageName)}`, {
      cause,
    });
    this.packageName = packageName;
  }
}

/** The install command of the package manager running this process, or each of the common ones. */
function installCommand(packageName: string): string {
  // Package managers set npm_config_user_agent for the scripts they run: 'pnpm/10.3.0 npm/? node/v24…'.
  const agent = /^(npm|pnpm|yarn|bun)\//.exec(process.env.npm_config_user_agent ?? '')?.[1];
  const commands: Record<string, string> = {
    npm: `npm install ${packageName}`,
    pnpm: `pnpm add ${packageName}`,
    yarn: `yarn add ${packageName}`,
    bun: `bun add ${packageName}`,
  };
  if (agent !== undefined) return `\`${commands[agent]}\``;
  return `\`${commands.npm}\`, \`${commands.pnpm}\` or \`${commands.yarn}\``;
}

/** The URL is not one Switchyard understands. Never echoes credentials. */
export class InvalidUrlError extends SwitchyardError {
  override name = 'InvalidUrlError';
}

/**
 * A topic or group name outside the rule every transport shares (see `NAME_RULE`): refused
 * before anything reaches a broker, with the characters allowed in the message.
 */
export class InvalidNameError extends SwitchyardError {
  override name = 'InvalidNameError';
  readonly kind: 'topic' | 'group';
  readonly value: string;
  constructor(kind: 'topic' | 'group', value: string, message: string) {
    super(message);
    this.kind = kind;
    this.value = value;
  }
}

/** An event failed its registered schema (on publish: nothing was sent). */
export class SchemaValidationError extends SwitchyardError {
  override name = 'SchemaValidationError';
  readonly type: string;
  readonly issues: readonly string[];
  constructor(type: string, issues: readonly string[]) {
    super(`Event of type '${type}' failed its schema: ${issues.join('; ')}`);
    this.type = type;
    this.issues = issues;
  }
}

/** An event is not a valid CloudEvent (bad attribute name or value, missing required attribute). */
export class InvalidEventError extends SwitchyardError {
  override name = 'InvalidEventError';
}

/** Bytes received from a broker that cannot be decoded into an event. */
export class DecodeError extends SwitchyardError {
  override name = 'DecodeError';
}

/** The encoded event is larger than the transport accepts; nothing was sent. */
export class MessageTooLargeError extends SwitchyardError {
  override name = 'MessageTooLargeError';
  readonly size: number;
  readonly limit: number;
  /** Position in the batch passed to publishBatch (0 for a single publish). */
  readonly index: number;
  constructor(size: number, limit: number, index = 0) {
    super(`Message ${index} is ${size} bytes; the transport accepts at most ${limit}`);
    this.size = size;
    this.limit = limit;
    this.index = index;
  }
}

/** Some entries of a batch were not accepted. `failures` names each by its index; the rest were. */
export class PublishBatchError extends SwitchyardError {
  override name = 'PublishBatchError';
  readonly failures: ReadonlyArray<{ index: number; error: Error }>;
  constructor(failures: ReadonlyArray<{ index: number; error: Error }>, total: number) {
    super(
      `${failures.length} of ${total} messages were not published: ${failures
        .slice(0, 3)
        .map((f) => `#${f.index} ${f.error.message}`)
        .join('; ')}`,
    );
    this.failures = failures;
  }
}

/** Throw from a handler to skip retries and dead-letter at once. */
export class NonRetryableError extends SwitchyardError {
  override name = 'NonRetryableError';
}

/** A handler ran longer than `timeoutMs`; the attempt counts as failed. */
export class HandlerTimeoutError extends SwitchyardError {
  override name = 'HandlerTimeoutError';
  constructor(ms: number) {
    super(`Handler did not finish within ${ms} ms`);
  }
}

/**
 * A combination of options that cannot be honoured: the transport's (checked at subscribe time) or
 * handle()'s (checked when handle() is called, e.g. `transactional: true` with a store that has no
 * `transaction`).
 */
export class UnsupportedOptionError extends SwitchyardError {
  override name = 'UnsupportedOptionError';
}

/**
 * The idempotency claim of an attempt was lost while its handler ran: another member took the key
 * after the lease expired, a renewal failed, or the store fenced out the completion. The attempt's
 * `ctx.signal` aborts with this error and it is never reported `acked`: the delivery is given back
 * (outcome `retrying` with this error) and its redelivery finds the event done, busy or free.
 */
export class LeaseLostError extends SwitchyardError {
  override name = 'LeaseLostError';
  readonly key: string;
  constructor(key: string, cause?: unknown) {
    super(`The idempotency claim on '${key}' was lost`, cause === undefined ? undefined : { cause });
    this.key = key;
  }
}

/** The bus or transport was closed. */
export class ClosedError extends SwitchyardError {
  override name = 'ClosedError';
  constructor(what = 'bus') {
    super(`The ${what} is closed`);
  }
}

/** The broker could not be reached or refused the operation; usually passing. */
export class TransportError extends SwitchyardError {
  override name = 'TransportError';
}

/** The transport does not offer an operation (e.g. `bus.inspect()` on a transport without `inspect`). */
export class UnsupportedOperationError extends SwitchyardError {
  override name = 'UnsupportedOperationError';
}

/** The broker has no such topic or group, e.g. `bus.inspect()` of a group never provisioned. */
export class NotFoundError extends SwitchyardError {
  override name = 'NotFoundError';
  readonly kind: 'topic' | 'group';
  readonly value: string;
  constructor(kind: 'topic' | 'group', value: string, message = `No ${kind} '${value}' on the broker`) {
    super(message);
    this.kind = kind;
    this.value = value;
  }
}
