import { redactUrl } from '@switchyard/core';

/**
 * An amqplib error as a short line; URLs in it are redacted. The punctuation a sentence puts after
 * a URL (`at amqp://host:5672: refused`) is left outside it, and redacting an already redacted
 * message changes nothing: a timeout quoting the last connection error printed `<invalid url>`.
 */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/amqps?:\/\/[^\s'"]+/g, (found) => {
    const url = found.replace(/[.,;:)\]]+$/, '');
    return redactUrl(url) + found.slice(url.length);
  });
}
