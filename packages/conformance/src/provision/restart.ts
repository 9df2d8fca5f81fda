import { driverFor } from './drivers.ts';
import { allRecords, writeRecord } from './launch-record.ts';
import { kafkaVersionFromEnv, sqsEmulatorFromEnv } from './options.ts';
import { isAlive, launchDetached, stopProcessGroup } from './process.ts';
import type { BrokerName } from './types.ts';
import { retryUntil, sleep } from './wait.ts';

export interface RestartTiming {
  /** From the stop request until the new process was started. */
  readonly downMs: number;
  /** From the new process's start until a full round trip succeeded. */
  readonly readyMs: number;
}

/**
 * Bounce a broker the provisioning launched: stop its process, wait `downtimeMs`, start it with
 * the same command on the same data dir, wait until it answers a real round trip. Works from a
 * test worker: everything it needs is in the launch record under .brokers/.
 * Note: fauxqs and ElasticMQ keep queues in memory, so their restart loses queues and messages.
 */
export async function restartBroker(
  name: BrokerName,
  options: { downtimeMs?: number; timeoutMs?: number } = {},
): Promise<RestartTiming> {
  const driver = driverFor(name, { kafkaVersion: kafkaVersionFromEnv(), emulator: sqsEmulatorFromEnv() });
  const inUse = process.env[driver.envVar];
  const record = allRecords().find((r) => r.broker === name && r.recipe && (!inUse || r.url === inUse));
  if (!record?.recipe) {
    throw new Error(
      `restartBroker('${name}'): the ${name} in use was not launched by the provisioning (env var or already running), so it cannot be restarted`,
    );
  }
  const stopping = Date.now();
  await stopProcessGroup(record.pid);
  if (options.downtimeMs) await sleep(options.downtimeMs);
  const pid = launchDetached(record.recipe);
  const starting = Date.now();
  writeRecord({ ...record, pid, startedAt: new Date().toISOString() });
  await retryUntil(() => driver.probe(record.url), {
    timeoutMs: options.timeoutMs ?? driver.readyTimeoutMs,
    intervalMs: 250,
    giveUp: () => (isAlive(pid) ? undefined : `the restarted ${name} exited (see ${record.recipe?.logFile})`),
  });
  return { downMs: starting - stopping, readyMs: Date.now() - starting };
}
