// The payments service: charges a card when the checkout asks.
//   ChargePayment → PaymentCaptured | PaymentFailed | (nothing yet: waiting for the customer)
// Its card gateway is a stand-in that decides by payment token, and times out once on `tok_flaky`.
import { randomUUID } from 'node:crypto';
import { connect, handle } from '@switchyard/core';
import {
  type ChargePayment,
  CommandTypes,
  EventTypes,
  type PaymentCaptured,
  type PaymentFailed,
  registerSchemas,
} from './events.ts';
import {
  brokerUrl,
  idempotencyStore,
  policies,
  running,
  type Service,
  type ServiceOptions,
} from './service.ts';

/** A transient failure: the handler throws it and the retry policy tries again. */
export class GatewayTimeoutError extends Error {
  override name = 'GatewayTimeoutError';
}

export type ChargeResult =
  | { ok: true; paymentId: string }
  | { ok: false; reason: string }
  /** The bank wants the customer to confirm (3-D Secure); the answer comes later, or never. */
  | { ok: 'pending' };

/**
 * A fake card gateway. `tok_declined` and `tok_no_funds` are declined (a business outcome, not an
 * error); `tok_flaky` times out on its first call, then succeeds; `tok_3ds` waits for a 3-D
 * Secure confirmation the customer never gives (the checkout's payment timeout deals with that).
 * Like a real gateway it takes an idempotency key, so charging again after a retry never charges twice.
 */
export function fakeGateway() {
  const charges = new Map<string, ChargeResult>();
  const timedOut = new Set<string>();
  return {
    calls: 0,
    async charge(idempotencyKey: string, amount: number, token: string): Promise<ChargeResult> {
      this.calls++;
      const previous = charges.get(idempotencyKey);
      if (previous) return previous;
      if (token === 'tok_flaky' && !timedOut.has(idempotencyKey)) {
        timedOut.add(idempotencyKey);
        throw new GatewayTimeoutError(`gateway timed out charging ${amount.toFixed(2)}`);
      }
      const result: ChargeResult =
        token === 'tok_declined'
          ? { ok: false, reason: 'card declined' }
          : token === 'tok_no_funds'
            ? { ok: false, reason: 'insufficient funds' }
            : token === 'tok_3ds'
              ? { ok: 'pending' }
              : { ok: true, paymentId: `pay_${randomUUID().slice(0, 8)}` };
      charges.set(idempotencyKey, result);
      return result;
    },
  };
}

export async function startPayments(options: ServiceOptions): Promise<Service> {
  const { topics } = options;
  const bus = await connect({ url: brokerUrl(options), source: 'payments' });
  registerSchemas(bus);
  await bus.provision(topics.paymentCommands, { groups: ['payments'] });
  await bus.provision(topics.payments);

  const gateway = fakeGateway();
  const onCommands = bus.consume(topics.paymentCommands, { group: 'payments' }).pipe(
    handle(
      async (event, ctx) => {
        if (event.type !== CommandTypes.ChargePayment) return;
        const { orderId, amount: total, paymentToken } = event.data as ChargePayment;
        // Throws GatewayTimeoutError on a timeout: handle() retries this command after a backoff.
        const result = await gateway.charge(event.id, total, paymentToken);
        if (result.ok === 'pending') return; // nothing to say until the bank answers
        if (result.ok) {
          await ctx.publish<PaymentCaptured>(topics.payments, {
            type: EventTypes.PaymentCaptured,
            data: { orderId, amount: total, paymentId: result.paymentId },
            key: orderId,
          });
        } else {
          await ctx.publish<PaymentFailed>(topics.payments, {
            type: EventTypes.PaymentFailed,
            data: { orderId, reason: result.reason },
            key: orderId,
          });
        }
      },
      policies(topics, idempotencyStore()),
    ),
  );

  return running('payments', bus, [onCommands], options);
}
