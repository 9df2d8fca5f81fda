import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dockerReachable, startContainer } from './docker.ts';
import { type Driver, driverFor } from './drivers.ts';
import { withLaunchLock } from './launch-lock.ts';
import { type LaunchRecord, readRecord, removeRecord, writeRecord } from './launch-record.ts';
import { brokersFromEnv, kafkaVersionFromEnv, sqsEmulatorFromEnv } from './options.ts';
import { isAlive, launchDetached, stopProcessGroup } from './process.ts';
import { maskUrl } from './redact.ts';
import type { BrokerEndpoint, Owner, ProbeResult, Provisioning, ResolveOptions } from './types.ts';
import { isListening, messageOf, retryUntil } from './wait.ts';

export interface Resolution {
  readonly brokers: readonly BrokerEndpoint[];
  /** Stop what this resolution started (processes and containers); leaves found brokers alone. */
  stop(): Promise<void>;
}

interface Context {
  readonly owner: Owner;
  readonly token: string;
  readonly launch: boolean;
  readonly kafkaVersion: string;
  readonly log: (line: string) => void;
  readonly stops: Array<() => Promise<void>>;
}

/**
 * Make each broker ready, in parallel, in this order: its env var → a broker an earlier run
 * launched (.brokers/) → one already listening on the default 127.0.0.1 port → testcontainers
 * when a Docker engine answers → a local process. Never throws for one broker: an unavailable
 * one comes back with `available: false` and the reason.
 */
export async function resolveBrokers(options: ResolveOptions = {}): Promise<Resolution> {
  const names = options.brokers ?? brokersFromEnv();
  const emulator = options.sqsEmulator ?? sqsEmulatorFromEnv();
  const context: Context = {
    owner: options.owner ?? 'api',
    token: randomUUID(),
    launch: options.launch ?? true,
    kafkaVersion: options.kafkaVersion ?? kafkaVersionFromEnv(),
    log: options.log ?? (() => {}),
    stops: [],
  };
  const brokers = await Promise.all(
    names.map((name) =>
      resolveOne(driverFor(name, { kafkaVersion: context.kafkaVersion, emulator }), context),
    ),
  );
  return {
    brokers,
    stop: async () => {
      await Promise.all(context.stops.splice(0).map((stop) => stop()));
    },
  };
}

/** The record of a launched broker whose process is still ours and alive; stale ones are removed. */
export function liveRecord(key: string): LaunchRecord | undefined {
  const record = readRecord(key);
  if (!record?.recipe) return record;
  if (isAlive(record.pid, record.recipe.marker)) return record;
  removeRecord(key);
  return undefined;
}

async function resolveOne(driver: Driver, context: Context): Promise<BrokerEndpoint> {
  const started = Date.now();
  const base = { name: driver.name, emulator: driver.emulator };
  const ready = (
    provisioned: Provisioning,
    url: string,
    probe: ProbeResult,
    extra: Partial<BrokerEndpoint> = {},
  ) => ({
    ...base,
    available: true,
    url,
    provisioned,
    version: probe.version,
    sns: probe.sns,
    readyMs: Date.now() - started,
    ...extra,
  });
  const unavailable = (provisioned: Provisioning, reason: string): BrokerEndpoint => ({
    ...base,
    available: false,
    url: '',
    provisioned,
    version: '',
    readyMs: Date.now() - started,
    reason: `${driver.name}: ${reason}`,
  });
  const probe = (url: string, timeoutMs: number) =>
    retryUntil(() => driver.probe(url), { timeoutMs, intervalMs: 250 });

  const fromEnv = process.env[driver.envVar]?.trim();
  if (fromEnv) {
    try {
      return ready('env', fromEnv, await probe(fromEnv, 15_000));
    } catch (error) {
      return unavailable('env', `${driver.envVar}=${maskUrl(fromEnv)} does not answer: ${messageOf(error)}`);
    }
  }

  const found = await findRunning(driver, context.log);
  if (found)
    return found.ok
      ? ready(found.provisioned, found.url, found.probe, found.extra)
      : unavailable(found.provisioned, found.reason);
  if (!context.launch) return unavailable('none', `not running on 127.0.0.1:${driver.defaultPort}`);

  if (await dockerReachable()) {
    try {
      const container = await startContainer(driver.name, {
        kafkaVersion: context.kafkaVersion,
        emulator: driver.emulator ?? 'fauxqs',
        keep: context.owner === 'cli',
      });
      if (context.owner === 'cli' && driver.key) writeRecord(containerRecord(driver, container, context));
      else context.stops.push(container.stop);
      return ready('docker', container.url, await probe(container.url, driver.readyTimeoutMs));
    } catch (error) {
      return unavailable('docker', `testcontainers could not start it: ${messageOf(error)}`);
    }
  }

  if (!driver.prepare || !driver.key) {
    return unavailable(
      'none',
      `not running on 127.0.0.1:${driver.defaultPort} and there is no Docker engine; start it with: ${driver.startHint}`,
    );
  }
  const { key, prepare } = driver;
  return withLaunchLock(key, async () => {
    // Another process may have launched it while we waited for the lock.
    const raced = await findRunning(driver, context.log);
    if (raced)
      return raced.ok
        ? ready(raced.provisioned, raced.url, raced.probe, raced.extra)
        : unavailable(raced.provisioned, raced.reason);
    let prepared: Awaited<ReturnType<typeof prepare>>;
    try {
      prepared = await prepare(context.log);
    } catch (error) {
      return unavailable('launched', `could not prepare a local ${driver.name}: ${messageOf(error)}`);
    }
    context.log(`${driver.name}: starting ${prepared.version} (log: ${prepared.recipe.logFile})`);
    let pid: number;
    try {
      pid = launchDetached(prepared.recipe);
    } catch (error) {
      return unavailable('launched', `could not start ${prepared.recipe.command}: ${messageOf(error)}`);
    }
    const record: LaunchRecord = {
      key,
      broker: driver.name,
      pid,
      url: prepared.url,
      version: prepared.version,
      owner: context.owner,
      ownerToken: context.token,
      startedAt: new Date().toISOString(),
      recipe: prepared.recipe,
    };
    writeRecord(record);
    if (context.owner !== 'cli') context.stops.push(() => stopOwned(key, context.token));
    try {
      const result = await retryUntil(() => driver.probe(prepared.url), {
        timeoutMs: driver.readyTimeoutMs,
        intervalMs: 250,
        giveUp: () => (isAlive(pid) ? undefined : 'the process exited'),
      });
      return ready('launched', prepared.url, result, {
        version: combine(prepared.version, result.version),
        pid,
        logFile: prepared.recipe.logFile,
      });
    } catch (error) {
      await stopProcessGroup(pid, 5_000);
      removeRecord(key);
      return unavailable('launched', `${messageOf(error)}\n${logTail(prepared.recipe.logFile)}`);
    }
  });
}

type Found =
  | { ok: true; provisioned: Provisioning; url: string; probe: ProbeResult; extra?: Partial<BrokerEndpoint> }
  | { ok: false; provisioned: Provisioning; reason: string };

/** A broker already there: one an earlier run launched, or anything on the default port. */
async function findRunning(driver: Driver, log: (line: string) => void): Promise<Found | undefined> {
  const record = driver.key ? liveRecord(driver.key) : undefined;
  if (record) {
    try {
      const probe = await retryUntil(() => driver.probe(record.url), {
        timeoutMs: driver.readyTimeoutMs,
        intervalMs: 250,
      });
      const extra = !record.recipe
        ? {}
        : {
            version: combine(record.version, probe.version),
            pid: record.pid,
            logFile: record.recipe.logFile,
          };
      return { ok: true, provisioned: 'previous-run', url: record.url, probe, extra };
    } catch (error) {
      return {
        ok: false,
        provisioned: 'previous-run',
        reason: `launched earlier (pid ${record.pid}, .brokers/${record.key}) but does not answer: ${messageOf(error)}; run pnpm brokers down`,
      };
    }
  }
  if (!(await isListening('127.0.0.1', driver.defaultPort))) return undefined;
  let waiting = false;
  try {
    const probe = await retryUntil(
      async () => {
        try {
          return await driver.probe(driver.defaultUrl);
        } catch (error) {
          // Say once that we are waiting, so a minute of silence is not mistaken for a hang.
          if (!waiting)
            log(
              `${driver.name}: 127.0.0.1:${driver.defaultPort} listens but the round trip failed (${messageOf(error)}); waiting up to ${driver.readyTimeoutMs / 1000} s for it to become ready`,
            );
          waiting = true;
          throw error;
        }
      },
      { timeoutMs: driver.readyTimeoutMs, intervalMs: 500 },
    );
    if (waiting) log(`${driver.name}: ready now`);
    return { ok: true, provisioned: 'running', url: driver.defaultUrl, probe };
  } catch (error) {
    const facts = driver.diagnose ? `; ${await driver.diagnose()}` : '';
    return {
      ok: false,
      provisioned: 'running',
      reason: `something listens on 127.0.0.1:${driver.defaultPort} but is not a working ${driver.name}: ${messageOf(error)}${facts}`,
    };
  }
}

/** What we launched, plus what the broker said about itself when that adds something. */
function combine(launched: string, probed: string): string {
  const product = launched.split(' ')[0] ?? '';
  return !probed || probed.startsWith(product) ? launched : `${launched} (${probed})`;
}

function containerRecord(
  driver: Driver,
  container: { url: string; containerId: string },
  context: Context,
): LaunchRecord {
  return {
    key: driver.key!,
    broker: driver.name,
    pid: 0,
    url: container.url,
    version: '',
    owner: context.owner,
    ownerToken: context.token,
    startedAt: new Date().toISOString(),
    containerId: container.containerId,
  };
}

/** Stop a launched broker if its record still carries our token (a restart keeps the token). */
export async function stopOwned(key: string, token: string): Promise<void> {
  const record = readRecord(key);
  if (!record || record.ownerToken !== token) return;
  await stopProcessGroup(record.pid);
  removeRecord(key);
}

function logTail(file: string): string {
  try {
    return `last lines of ${file}:\n${readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15).join('\n')}`;
  } catch {
    return `no log at ${file}`;
  }
}
