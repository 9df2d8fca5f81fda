// The timeline: what happened to each order, as seen from the bus.
// An observer connection reads every topic in a group of its own (so it gets every event without
// taking any from the services), and the services report their retries and skipped duplicates
// (the checkout also what its saga ignored).
import { styleText } from 'node:util';
import type { Bus, Outcome, SwitchyardEvent } from '@switchyard/core';
import { connect } from '@switchyard/core';
import type { SagaStep } from '@switchyard/saga';
import { EventTypes, shortType, TimerTypes, type Topics } from './events.ts';
import type { OrderSummary } from './order-summary.ts';

export type EntryKind = 'event' | 'retrying' | 'duplicate' | 'ignored' | 'deadLettered';

export interface TimelineEntry {
  readonly kind: EntryKind;
  /** Epoch ms: the event's `time` for events, when it happened for the rest. */
  readonly at: number;
  /** Who published the event, or which service retried / skipped / dead-lettered it. */
  readonly service: string;
  readonly type: string;
  readonly id: string;
  readonly causationId: string | undefined;
  readonly correlationId: string;
  readonly data: unknown;
  /** A published event seen before under the same id. */
  readonly repeat?: boolean;
  readonly note?: string;
  /** For a dead letter: `deadletterreason`. */
  readonly reason?: string;
  /** Arrival order, to break ties. */
  readonly seq: number;
}

export type OrderStatus = 'confirmed' | 'cancelled' | 'dead-lettered' | 'pending';

export interface OrderState {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly reason?: string;
  readonly correlationId: string;
}

export interface Timeline {
  readonly bus: Bus;
  readonly entries: readonly TimelineEntry[];
  /** Record a service's Outcome: retries and duplicates go on the timeline. */
  outcome(service: string, outcome: Outcome): void;
  /** Record what a saga did with an event: duplicates and ignored events go on the timeline. */
  sagaStep(service: string, step: SagaStep): void;
  /** Calls `listener` after every new entry; returns a function that removes it. */
  onChange(listener: () => void): () => void;
  /** The orders seen so far, by order id, and how each ended. */
  orders(): Map<string, OrderState>;
  stop(): Promise<void>;
}

export async function startTimeline(options: {
  readonly url: string;
  readonly topics: Topics;
  readonly onError?: (error: Error) => void;
}): Promise<Timeline> {
  const { topics } = options;
  // No schemas registered here: the observer must see even the events that fail them.
  const bus = await connect({ url: options.url, source: 'timeline' });
  const all = Object.values(topics);
  for (const topic of all) await bus.provision(topic, { groups: ['timeline'] });

  const entries: TimelineEntry[] = [];
  const seen = new Set<string>();
  const listeners = new Set<() => void>();
  const add = (entry: Omit<TimelineEntry, 'seq'>) => {
    entries.push({ ...entry, seq: entries.length });
    for (const listener of listeners) listener();
  };

  const subscriptions = all.map((topic) =>
    bus.consume(topic, { group: 'timeline' }).subscribe({
      next: (delivery) => {
        const event = delivery.event;
        if (event) {
          const dead = topic === topics.deadLetters;
          add(dead ? deadLetterEntry(event) : publishedEntry(event, seen));
        }
        // Observing needs no policy: ack everything, including what could not be decoded.
        delivery.ack().catch(() => {});
      },
      error: (error: Error) => options.onError?.(error),
    }),
  );

  return {
    bus,
    entries,
    outcome(service, outcome) {
      const event = outcome.event;
      if (!event) return; // a rejected message: the timeline shows it from the dead-letter topic
      if (outcome.kind === 'retrying') {
        add({
          ...about(event),
          kind: 'retrying',
          at: Date.now(),
          service,
          note: `attempt ${outcome.attempt} failed (${outcome.error?.message}); again in ${outcome.delayMs} ms`,
        });
      } else if (outcome.kind === 'duplicate') {
        add({
          ...about(event),
          kind: 'duplicate',
          at: Date.now(),
          service,
          note: 'already handled, skipped',
        });
      }
    },
    sagaStep(service, step) {
      const note = SAGA_NOTES[step.result];
      if (note === undefined) return;
      add({
        ...about(step.event),
        kind: step.result === 'duplicate' ? 'duplicate' : 'ignored',
        at: Date.now(),
        service,
        note,
      });
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    orders: () => ordersOf(entries),
    async stop() {
      await bus.close({ drainTimeoutMs: 1_000 });
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}

/** What the timeline says about a saga step; the ones not here (transitions) show as their messages. */
const SAGA_NOTES: Partial<Record<SagaStep['result'], string>> = {
  duplicate: 'already handled, skipped',
  completed: 'the checkout of this order has ended: ignored',
  stale: 'a timer that was cancelled or fired already: ignored',
};

function about(event: SwitchyardEvent) {
  return {
    type: event.type,
    id: event.id,
    causationId: event.causationid,
    correlationId: event.correlationid,
    data: event.data,
  };
}

function publishedEntry(event: SwitchyardEvent, seen: Set<string>): Omit<TimelineEntry, 'seq'> {
  const repeat = seen.has(event.id);
  seen.add(event.id);
  return {
    ...about(event),
    kind: 'event',
    at: Date.parse(event.time),
    service: event.source,
    ...(repeat
      ? { repeat, note: 'published again under the same id' }
      : event.extensions.compensates
        ? { note: `compensation: undoes ${event.extensions.compensates}` }
        : {}),
  };
}

function deadLetterEntry(event: SwitchyardEvent): Omit<TimelineEntry, 'seq'> {
  const x = event.extensions;
  return {
    ...about(event),
    kind: 'deadLettered',
    at: Date.parse(x.deadletteredat ?? event.time),
    service: x.deadlettergroup ?? '?',
    reason: x.deadletterreason ?? '',
    note: `after ${x.deadletterattempts ?? '?'} attempt(s): ${x.deadletterreason ?? ''}`,
  };
}

/** The order an event is about: `data.orderId`, or for a saga's timeout event its correlation id. */
export function orderIdOf(data: unknown): string | undefined {
  const d = data as { orderId?: unknown; saga?: unknown; correlationId?: unknown } | null | undefined;
  const id = d?.orderId ?? (d?.saga === 'checkout' ? d.correlationId : undefined);
  return typeof id === 'string' ? id : undefined;
}

/** How each order ended, from the entries of its correlation id. */
export function ordersOf(entries: readonly TimelineEntry[]): Map<string, OrderState> {
  const orders = new Map<string, OrderState>();
  for (const entry of sorted(entries)) {
    const orderId = orderIdOf(entry.data);
    if (!orderId) continue;
    const current = orders.get(orderId) ?? {
      orderId,
      status: 'pending' as const,
      correlationId: entry.correlationId,
    };
    let next: OrderState = current;
    if (entry.kind === 'deadLettered') {
      next = { ...current, status: 'dead-lettered', reason: entry.reason ?? '' };
    } else if (entry.kind === 'event' && entry.type === EventTypes.OrderConfirmed) {
      next = { ...current, status: 'confirmed' };
    } else if (entry.kind === 'event' && entry.type === EventTypes.OrderCancelled) {
      next = { ...current, status: 'cancelled', reason: (entry.data as { reason: string }).reason };
    }
    orders.set(orderId, next);
  }
  return orders;
}

/** By time; on a tie, causes before their effects, then arrival order. */
export function sorted(entries: readonly TimelineEntry[]): TimelineEntry[] {
  const depthOf = new Map<string, number>();
  const byId = new Map(entries.filter((e) => e.kind === 'event').map((e) => [e.id, e]));
  const depth = (id: string | undefined, guard = 0): number => {
    if (!id || guard > 64) return 0;
    const known = depthOf.get(id);
    if (known !== undefined) return known;
    const entry = byId.get(id);
    const d = entry?.causationId ? depth(entry.causationId, guard + 1) + 1 : 0;
    depthOf.set(id, d);
    return d;
  };
  const rank = (e: TimelineEntry) => depth(e.id) + (e.kind === 'event' ? 0 : 0.5);
  return [...entries].sort((a, b) => a.at - b.at || rank(a) - rank(b) || a.seq - b.seq);
}

const paint = (format: Parameters<typeof styleText>[0], text: string) => styleText(format, text);
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);
const short = (id: string | undefined) => (id ?? '').slice(0, 8);

/** One block per order, in order id order: relative ms, service, what happened, ids. */
export function renderTimeline(entries: readonly TimelineEntry[]): string {
  const groups = new Map<string, TimelineEntry[]>();
  for (const entry of sorted(entries)) {
    const group = groups.get(entry.correlationId) ?? [];
    group.push(entry);
    groups.set(entry.correlationId, group);
  }
  const orders = ordersOf(entries);
  const blocks = [...groups.values()]
    .map((group) => ({ group, orderId: orderIdOf(group[0]?.data) ?? '?' }))
    .sort((a, b) => a.orderId.localeCompare(b.orderId));
  const lines: string[] = [];
  for (const { group, orderId } of blocks) {
    const state = orders.get(orderId);
    const status = state?.status ?? 'pending';
    const start = group[0]!.at;
    lines.push(
      `${paint('bold', orderId)}  ${paintStatus(status)}${state?.reason ? ` (${clip(state.reason.replace(/Event of type '[^']*' /, ''), 64)})` : ''}` +
        paint('dim', `  correlation ${short(group[0]!.correlationId)}`),
    );
    for (const entry of group) {
      const ms = `+${Math.max(0, entry.at - start)}ms`.padStart(8);
      const what = label(entry).padEnd(24);
      const ids =
        entry.kind === 'event' && entry.causationId
          ? `${short(entry.id)} <- ${short(entry.causationId)}`
          : short(entry.id);
      const note = entry.note ? `  ${paint('dim', entry.note)}` : '';
      const line = `${ms}  ${entry.service.padEnd(15)} ${paintLabel(entry, what)} ${note ? ids.padEnd(20) : ids}${note}`;
      lines.push(line);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function label(entry: TimelineEntry): string {
  switch (entry.kind) {
    case 'event':
      return shortType(entry.type);
    case 'retrying':
      return `retry ${shortType(entry.type)}`;
    case 'duplicate':
      return `skip duplicate`;
    case 'ignored':
      return `ignore ${shortType(entry.type)}`;
    case 'deadLettered':
      return `DEAD-LETTER ${shortType(entry.type)}`;
  }
}

function paintLabel(entry: TimelineEntry, text: string): string {
  if (entry.kind === 'retrying' || entry.kind === 'duplicate' || entry.kind === 'ignored') {
    return paint('yellow', text);
  }
  if (entry.note?.startsWith('compensation')) return paint('cyan', text);
  if (entry.type === TimerTypes.PaymentTimeout) return paint('yellow', text);
  if (entry.kind === 'deadLettered') return paint('red', text);
  if (entry.type === EventTypes.OrderConfirmed) return paint('green', text);
  if (entry.type === EventTypes.OrderCancelled) return paint('magenta', text);
  return text;
}

export function paintStatus(status: OrderStatus): string {
  const color = {
    confirmed: 'green',
    cancelled: 'magenta',
    'dead-lettered': 'red',
    pending: 'yellow',
  } as const;
  return paint(color[status], status);
}

/** The read model as a table: one row per order. */
export function renderSummaries(rows: readonly OrderSummary[]): string {
  const head = ['order', 'customer', 'units', 'total', 'status', 'payment / reason'];
  const cells = rows.map((r) => [
    r.orderId,
    r.customerId,
    String(r.units),
    r.total.toFixed(2),
    r.status,
    r.reason ?? r.paymentId ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => `  ${c.map((v, i) => v.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [paint('dim', line(head)), ...cells.map(line)].join('\n');
}
