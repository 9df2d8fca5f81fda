// What every NestJS transport needs here: Nest's logger silenced (it would print every connect)
// and an emit awaited until the broker took the message.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { lastValueFrom, type Observable } from 'rxjs';

Logger.overrideLogger(false);

/** Nest's emit() starts sending at once and completes when the transport resolved the send. */
export function sent(emitted: Observable<unknown>): Promise<unknown> {
  return lastValueFrom(emitted, { defaultValue: undefined });
}

export const PATTERN = 'bench';
