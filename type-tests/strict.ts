// What issue 18 found failing in a strict project; compiled by `pnpm typecheck` (type-tests/tsconfig.json).
import { connect, type SwitchyardEvent } from '@switchyard/core';
import { z } from 'zod';

const bus = await connect({
  url: 'amqp://guest:guest@127.0.0.1:5672',
  source: 'billing',
  // No `import '@switchyard/rabbitmq'` anywhere: connect() knows the option's shape itself.
  amqp: {
    heartbeatSeconds: 10,
    reconnect: { initialDelayMs: 100, maxDelayMs: 5_000 },
    delayTiersMs: [1_000],
  },
});

// A zod schema (its Standard Schema has optional fields typed `| undefined`) under exactOptionalPropertyTypes.
const orderPlaced = z.object({ orderId: z.string(), total: z.number(), note: z.string().optional() });
bus.schemas.register('com.acme.order.placed', orderPlaced, { version: 2 });

// @ts-expect-error an option the RabbitMQ transport does not have
await connect({ url: 'amqp://127.0.0.1', source: 'x', amqp: { heartbeatSecs: 10 } });
// @ts-expect-error exactOptionalPropertyTypes: an absent option is left out, not undefined
await connect({ url: 'kafka://127.0.0.1:9092', source: 'x', kafka: undefined });

export const typed = (event: SwitchyardEvent<{ orderId: string }>): string => event.data.orderId;
await bus.close();
