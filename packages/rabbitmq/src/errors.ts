import { redactUrl } from '@switchyard/core';

/** An amqplib error as a short line; URLs in it are redacted. */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/amqps?:\/\/[^\s'"]+/g, (url) => redactUrl(url));
}
