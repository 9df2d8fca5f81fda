// What every NestJS transport needs here: Nest's logger silenced (it would print every connect)
// and an emit awaited until the broker took the message.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { lastValueFrom, type Observable } from 'rxjs';
import type { Consuming } from '../driver.ts';

Logger.overrideLogger(false);

/** Nest's emit() starts sending at once and completes when the transport resolved the send. */
export function sent(emitted: Observable<unknown>): Promise<unknown> {
  return lastValueFrom(emitted, { defaultValue: undefined });
}

export const PATTERN = 'bench';

/** Start a Nest server (ServerRMQ, ServerKafka, ...) and consume until stopped. */
export async function listening(server: {
  listen(callback: (error?: unknown) => void): unknown;
  close(): unknown;
}): Promise<Consuming> {
  await new Promise<void>((resolve, reject) =>
    server.listen((error?: unknown) => (error ? reject(error) : resolve())),
  );
  return { stop: async () => void (await server.close()) };
}
