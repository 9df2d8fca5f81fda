#!/usr/bin/env bash
# Build and pack @switchyard/core, install the tarball into an empty project outside the workspace,
# and run an ESM script that publishes, consumes, retries, dead-letters and de-duplicates on memory://.
# Exits non-zero if the package cannot be installed or the script fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/core-pack-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cd "$root"
npx tsc -b packages/core
pnpm --filter @switchyard/core pack --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/switchyard-core-*.tgz)"

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
