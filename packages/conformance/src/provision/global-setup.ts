// Vitest global setup: make the brokers ready once per run, hand their addresses to the tests
// (process.env and `inject('brokers')`), stop at teardown only what this run launched.
import type { TestProject } from 'vitest/node';
import { ENV_VARS } from './drivers.ts';
import { requireBrokersFromEnv } from './options.ts';
import type {} from './provided.ts';
import { type Resolution, resolveBrokers } from './resolve.ts';
import { formatTable } from './table.ts';
import type { ProvidedBrokers } from './types.ts';

let resolution: Resolution | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  resolution = await resolveBrokers({ owner: 'setup', log: (line) => console.log(`[brokers] ${line}`) });
  console.log(`\n[brokers] ready in ${Date.now() - started} ms\n${formatTable(resolution.brokers)}\n`);

  const provided: ProvidedBrokers = {};
  for (const broker of resolution.brokers) {
    provided[broker.name] = broker;
    if (broker.available) process.env[ENV_VARS[broker.name]] = broker.url;
  }
  const missing = resolution.brokers.filter((broker) => !broker.available);
  if (missing.length > 0 && requireBrokersFromEnv()) {
    await teardown();
    throw new Error(
      `REQUIRE_BROKERS=1 and a broker is unavailable: ${missing.map((b) => b.reason).join('; ')}`,
    );
  }
  project.provide('brokers', provided);
}

export async function teardown(): Promise<void> {
  await resolution?.stop();
  resolution = undefined;
}
