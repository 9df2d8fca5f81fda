import { dockerReachable } from '../docker.ts';
import { maskUrl } from '../redact.ts';
import type { Provisioning } from '../types.ts';
import { isListening, messageOf, retryUntil } from '../wait.ts';
import { startStoreContainer } from './docker.ts';
import { probeStore } from './probe.ts';
import { STORE_ENV_VARS, STORE_NAMES, type StoreEndpoint, type StoreName } from './types.ts';

const DEFAULTS: Record<StoreName, { port: number; url: string; hint: string }> = {
  postgres: {
    port: 5432,
    url: 'postgres://root@127.0.0.1:5432/test',
    hint: 'set DATABASE_URL, or start PostgreSQL on 127.0.0.1:5432 (trust auth, user root, database test)',
  },
  redis: {
    port: 6379,
    url: 'redis://127.0.0.1:6379',
    hint: 'set REDIS_URL, or start redis-server on 127.0.0.1:6379',
  },
};

/** STORES=postgres narrows the set; STORES=none resolves none. Default: both. */
export function storesFromEnv(value = process.env.STORES): StoreName[] {
  if (!value?.trim()) return [...STORE_NAMES];
  if (value.trim() === 'none') return [];
  const names = value.split(',').map((n) => n.trim().toLowerCase());
  const unknown = names.filter((n) => !(STORE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new Error(`STORES names unknown store(s) ${unknown.join(', ')}; known: ${STORE_NAMES.join(', ')}`);
  return names as StoreName[];
}

export interface StoreResolution {
  readonly stores: readonly StoreEndpoint[];
  /** Stop the containers this resolution started. */
  stop(): Promise<void>;
}

/**
 * Make PostgreSQL and Redis ready the way brokers are: env var → the default 127.0.0.1 port →
 * testcontainers when a Docker engine answers → unavailable with a reason (never throws).
 */
export async function resolveStores(
  names: readonly StoreName[] = storesFromEnv(),
  options: { launch?: boolean } = {},
): Promise<StoreResolution> {
  const stops: Array<() => Promise<void>> = [];
  const stores = await Promise.all(names.map((name) => resolveStore(name, options.launch ?? true, stops)));
  return {
    stores,
    stop: async () => {
      await Promise.all(stops.splice(0).map((stop) => stop()));
    },
  };
}

async function resolveStore(
  name: StoreName,
  launch: boolean,
  stops: Array<() => Promise<void>>,
): Promise<StoreEndpoint> {
  const started = Date.now();
  const envVar = STORE_ENV_VARS[name];
  const defaults = DEFAULTS[name];
  const ready = (provisioned: Provisioning, url: string, version: string): StoreEndpoint => ({
    name,
    available: true,
    url,
    provisioned,
    version,
    readyMs: Date.now() - started,
  });
  const unavailable = (provisioned: Provisioning, reason: string): StoreEndpoint => ({
    name,
    available: false,
    url: '',
    provisioned,
    version: '',
    readyMs: Date.now() - started,
    reason: `${name}: ${reason}`,
  });
  const probe = async (url: string, timeoutMs: number) =>
    (await retryUntil(() => probeStore(name, url), { timeoutMs, intervalMs: 250 })).version;

  const fromEnv = process.env[envVar]?.trim();
  if (fromEnv) {
    try {
      return ready('env', fromEnv, await probe(fromEnv, 15_000));
    } catch (error) {
      return unavailable(
        'env',
        `${envVar}=${maskUrl(fromEnv)} does not answer: ${maskUrl(messageOf(error))}`,
      );
    }
  }
  if (await isListening('127.0.0.1', defaults.port)) {
    try {
      return ready('running', defaults.url, await probe(defaults.url, 30_000));
    } catch (error) {
      return unavailable(
        'running',
        `something listens on 127.0.0.1:${defaults.port} but is not a working ${name} for ${defaults.url}: ${messageOf(error)}`,
      );
    }
  }
  if (!launch) return unavailable('none', `not running on 127.0.0.1:${defaults.port}`);
  if (await dockerReachable()) {
    try {
      const container = await startStoreContainer(name);
      stops.push(container.stop);
      return ready('docker', container.url, await probe(container.url, 60_000));
    } catch (error) {
      return unavailable('docker', `testcontainers could not start it: ${messageOf(error)}`);
    }
  }
  return unavailable(
    'none',
    `not running on 127.0.0.1:${defaults.port} and there is no Docker engine; ${defaults.hint}`,
  );
}
