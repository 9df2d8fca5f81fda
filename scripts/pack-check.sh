#!/usr/bin/env bash
# Build and pack @switchyard/core, install the tarball into an empty project outside the workspace,
# and run an ESM script that publishes, consumes, retries, dead-letters and de-duplicates on memory://.
# Then the same for @switchyard/otel with @opentelemetry/api and an in-memory SDK: spans and the
# traceparent carried through memory://.
# Exits non-zero if a package cannot be installed or a script fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/core-pack-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cd "$root"
npx tsc -b packages/core packages/otel packages/dashboard
pnpm --filter @switchyard/core pack --pack-destination "$work" >/dev/null
pnpm --filter @switchyard/otel pack --pack-destination "$work" >/dev/null
pnpm --filter @switchyard/dashboard pack --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/switchyard-core-*.tgz)"
otel_tarball="$(ls "$work"/switchyard-otel-*.tgz)"

mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$tarball"
cat > check.mjs <<'JS'
import { connect, fixedBackoff, handle, memoryIdempotencyStore } from '@switchyard/core';
import { firstValueFrom, take, toArray } from 'rxjs';

const bus = await connect({ url: 'memory://pack-check', source: 'pack-check' });
await bus.provision('orders', { groups: ['billing'] });
await bus.provision('orders.dlq', { groups: ['ops'] });
let flaky = 0;
const outcomes = firstValueFrom(bus.consume('orders', { group: 'billing' }).pipe(
  handle(async (event) => {
    if (event.data.id === 'flaky' && flaky++ === 0) throw new Error('once');
    if (event.data.id === 'bad') throw new Error('always');
  }, { concurrency: 4, timeoutMs: 1_000, retry: { maxAttempts: 2, backoff: fixedBackoff(5) },
       deadLetter: { topic: 'orders.dlq' }, idempotency: { store: memoryIdempotencyStore() } }),
  take(6), toArray()));
await bus.publishBatch('orders', ['ok', 'flaky', 'bad'].map((id) => ({ type: 'order', id, data: { id }, key: id })));
await bus.publish('orders', { type: 'order', id: 'ok', data: { id: 'ok' }, key: 'ok' });
const kinds = (await outcomes).map((o) => `${o.event.data.id}:${o.kind}`).sort().join(' ');
const dead = await firstValueFrom(bus.consume('orders.dlq', { group: 'ops' }));
await dead.ack();
await bus.close();
const expected = 'bad:deadLettered bad:retrying flaky:acked flaky:retrying ok:acked ok:duplicate';
if (kinds !== expected || dead.event.extensions.deadletterreason !== '2 attempts failed; last: always') {
  console.error(`pack check failed: ${kinds} / ${dead.event.extensions.deadletterreason}`);
  process.exit(1);
}
// Outside the workspace @switchyard/kafka is not installed: a typed error names it.
const missing = await connect({ url: 'kafka://127.0.0.1:1', source: 'x' }).catch((e) => e);
if (missing?.name !== 'TransportNotInstalledError' || missing.packageName !== '@switchyard/kafka') {
  console.error(`pack check failed: kafka:// gave ${missing}`);
  process.exit(1);
}
console.log(`pack check ok: ${kinds}; kafka:// -> ${missing.name} (${missing.packageName})`);
JS
# rxjs is core's dependency; the script imports it the way an application would.
npm install --no-audit --no-fund --loglevel=error rxjs@^7.8.2
node check.mjs

# @switchyard/otel: its peer @opentelemetry/api and, as an application would add them, an SDK.
npm install --no-audit --no-fund --loglevel=error "$tarball" "$otel_tarball" \
  @opentelemetry/api@^1.10.0 @opentelemetry/sdk-trace@^3.1.1 @opentelemetry/context-async-hooks@^3.1.1
cat > otel-check.mjs <<'JS'
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { connect, handle } from '@switchyard/core';
import { formatTraceparent, instrument } from '@switchyard/otel';
import { firstValueFrom } from 'rxjs';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const bus = instrument(await connect({ url: 'memory://otel-pack-check', source: 'pack-check' }), { tracerProvider });
await bus.provision('orders', { groups: ['billing'] });
const handled = firstValueFrom(bus.consume('orders', { group: 'billing' }).pipe(handle((event) => event.traceparent)));
const sent = await bus.publish('orders', { type: 'order', data: { id: 1 } });
const outcome = await handled;
await bus.close();
const send = exporter.getFinishedSpans().find((s) => s.name === 'send orders');
const processSpan = exporter.getFinishedSpans().find((s) => s.name === 'process orders');
if (!send || !processSpan || sent.traceparent !== formatTraceparent(send.spanContext()) ||
    outcome.event.traceparent !== sent.traceparent || processSpan.links[0]?.context.spanId !== send.spanContext().spanId) {
  console.error(`otel pack check failed: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}; ${sent.traceparent}`);
  process.exit(1);
}
console.log(`otel pack check ok: ${send.name} -> ${processSpan.name}, traceparent ${sent.traceparent}`);
JS
node otel-check.mjs

# @switchyard/dashboard: its `switchyard` bin runs from an installed tarball (help, and a real command).
dashboard_tarball="$(ls "$work"/switchyard-dashboard-*.tgz)"
npm install --no-audit --no-fund --loglevel=error "$tarball" "$dashboard_tarball"
npx switchyard --help | grep -q 'switchyard inspect <url> <topic>'
if out="$(npx switchyard inspect memory://pack-check orders --group billing 2>&1)"; then
  echo "dashboard pack check failed: inspect of a missing topic succeeded: $out"; exit 1
fi
case "$out" in
  *NotFoundError*) echo "dashboard pack check ok: switchyard --help; inspect -> $out" ;;
  *) echo "dashboard pack check failed: $out"; exit 1 ;;
esac
