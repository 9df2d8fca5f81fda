// Vitest global setup: make the brokers ready once per run, hand their addresses to the tests
// (process.env and `inject('brokers')`), stop at teardown only what this run launched.
import type { TestProject } from 'vitest/node';
import { ENV_VARS } from './drivers.ts';
import { requireBrokersFromEnv } from './options.ts';
import type {} from './provided.ts';
import { type Resolution, resolveBrokers } from './resolve.ts';
import type {} from './stores/provided.ts';
import { resolveStores, type StoreResolution } from './stores/resolve.ts';
import { type ProvidedStores, STORE_ENV_VARS } from './stores/types.ts';
import { formatTable } from './table.ts';
import type { ProvidedBrokers } from './types.ts';

let resolution: Resolution | undefined;
let storeResolution: StoreResolution | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  [resolution, storeResolution] = await Promise.all([
    resolveBrokers({ owner: 'setup', log: (line) => console.log(`[brokers] ${line}`) }),
    resolveStores(),
  ]);
  const all = [...resolution.brokers, ...storeResolution.stores];
  console.log(`\n[brokers] ready in ${Date.now() - started} ms\n${formatTable(all)}\n`);

  const provided: ProvidedBrokers = {};
  for (const broker of resolution.brokers) {
    provided[broker.name] = broker;
    if (broker.available) process.env[ENV_VARS[broker.name]] = broker.url;
  }
  const stores: ProvidedStores = {};
  for (const store of storeResolution.stores) {
    stores[store.name] = store;
    if (store.available) process.env[STORE_ENV_VARS[store.name]] = store.url;
  }
  const missing = all.filter((broker) => !broker.available);
  if (missing.length > 0 && requireBrokersFromEnv()) {
    await teardown();
    throw new Error(
      `REQUIRE_BROKERS=1 and a broker is unavailable: ${missing.map((b) => b.reason).join('; ')}`,
    );
  }
  project.provide('brokers', provided);
  project.provide('stores', stores);
}

export async function teardown(): Promise<void> {
  await Promise.all([resolution?.stop(), storeResolution?.stop()]);
  resolution = undefined;
  storeResolution = undefined;
}
