import { type logCreator, logLevel } from 'kafkajs';
import type { ResolvedOptions } from './options.ts';

const LEVELS = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
} as const;

const NAMES: Record<number, string> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function kafkaLogLevel(options: ResolvedOptions): logLevel {
  return LEVELS[options.logLevel];
}

/**
 * kafkajs hands each log line a bag of extra fields (request payloads, broker and client config);
 * only the namespace and message go out, with any configured secret masked, so credentials can
 * never reach a log line.
 */
export function logCreatorFor(options: ResolvedOptions): logCreator {
  const secrets = secretsOf(options);
  const sink =
    options.logger ??
    ((entry: { level: string; namespace: string; message: string }) =>
      console.error(`[switchyard/kafka] ${entry.level} ${entry.namespace}: ${entry.message}`));
  return () =>
    ({ namespace, level, log }) => {
      sink({
        level: NAMES[level] ?? String(level),
        namespace,
        message: redact(String(log.message), secrets),
      });
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
