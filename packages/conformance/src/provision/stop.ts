import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { allRecords, type LaunchRecord, removeRecord } from './launch-record.ts';
import { isAlive, stopProcessGroup } from './process.ts';
import type { BrokerName } from './types.ts';

const run = promisify(execFile);

/** Stop every broker the provisioning launched (for `pnpm brokers down`); returns what it stopped. */
export async function stopLaunched(brokers: readonly BrokerName[]): Promise<LaunchRecord[]> {
  const records = allRecords().filter((record) => brokers.includes(record.broker));
  await Promise.all(records.map(stopRecord));
  return records;
}

async function stopRecord(record: LaunchRecord): Promise<void> {
  if (record.containerId) {
    await run('docker', ['rm', '-f', record.containerId]).catch(() => {});
  } else if (isAlive(record.pid, record.recipe?.marker)) {
    await stopProcessGroup(record.pid);
  }
  removeRecord(record.key);
}
