import type { Logger, LogLevel, LogThreshold } from '@switchyard/core';
import { type logCreator, logLevel } from 'kafkajs';
import type { ResolvedOptions } from './options.ts';

const LEVELS = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
} as const;

const NAMES: Record<number, LogLevel> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};
const RANK: Readonly<Record<LogThreshold, number>> = { debug: 0, info: 1, warn: 2, error: 3, nothing: 4 };

export function kafkaLogLevel(options: ResolvedOptions): logLevel {
  return LEVELS[options.logLevel];
}

/**
 * kafkajs logs at `error` what the transport expects and handles: a broker's error code in a
 * response (`Response CreateTopics` for a topic that exists, `ListOffsets` while a leader moves,
 * `Heartbeat` during a rebalance) is returned to the caller, who retries it or raises its own
 * error; connection failures and the consumer's crash/restart pairs during an outage are what
 * reconnecting looks like. Those lines go out at a level that says so; an error stays an error.
 */
export function levelOf(level: LogLevel, namespace: string, message: string): LogLevel {
  // Said for every producer: the transport limits retries on purpose and resends what failed.
  if (message.startsWith('Limiting retries for the idempotent producer')) return 'debug';
  if (message.startsWith('The group is rebalancing')) return 'info';
  if (level !== 'error') return level;
  if (message.startsWith('Response ')) return 'debug';
  if (/^(Crash|Restarting the consumer)/.test(message)) return 'warn';
  if (
    /^(Connection error|Connection timeout|Failed to connect to seed broker|Closed connection)/.test(message)
  ) {
    return 'warn';
  }
  if (namespace === 'BrokerPool' || namespace === 'Connection') return 'warn';
  return level;
}

/**
 * kafkajs hands each log line a bag of extra fields (request payloads, broker and client config);
 * only the namespace and message go out, with any configured secret masked, so credentials can
 * never reach a log line. Lines go to `options.logger` (the `kafka` key), else to the bus's logger
 * from `connect({ logger })`, at the level `levelOf` gives them; a closed transport logs nothing
 * (kafkajs may still be retrying a connect it abandoned).
 */
export function logCreatorFor(
  options: ResolvedOptions,
  busLogger?: Logger,
  closed: () => boolean = () => false,
): logCreator {
  const secrets = secretsOf(options);
  const least = RANK[options.logLevel];
  const sink: Logger =
    options.logger ??
    busLogger ??
    ((entry) => console.error(`[switchyard/kafka] ${entry.level} ${entry.namespace}: ${entry.message}`));
  return () =>
    ({ namespace, level, log }) => {
      if (closed()) return;
      const message = redact(String(log.message), secrets);
      const mapped = levelOf(NAMES[level] ?? 'debug', namespace, message);
      if (RANK[mapped] < least) return;
      try {
        sink({ level: mapped, namespace: `kafka.${namespace}`, message });
      } catch {
        // A broken sink must not break the client.
      }
    };
}

export function secretsOf(options: ResolvedOptions): string[] {
  const sasl = options.sasl as Record<string, unknown> | undefined;
  if (!sasl) return [];
  return ['password', 'secretAccessKey', 'sessionToken']
    .map((field) => sasl[field])
    .filter((value): value is string => typeof value === 'string' && value.length > 0);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}
