import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokersDir } from './paths.ts';
import type { Recipe } from './process.ts';
import type { BrokerName, Owner } from './types.ts';

/**
 * What the provisioning launched, written to .brokers/<key>/launch.json so another process
 * (the CLI, a later vitest run, a test worker restarting the broker) can find, probe and stop it.
 * `key` is the process kind: kafka, fauxqs, elasticmq.
 */
export interface LaunchRecord {
  readonly key: string;
  readonly broker: BrokerName;
  readonly pid: number;
  /** The broker's env var value, e.g. 127.0.0.1:9092 or http://127.0.0.1:4566. */
  readonly url: string;
  readonly version: string;
  readonly owner: Owner;
  /** Unique per resolving process: teardown stops only records carrying its own token. */
  readonly ownerToken: string;
  readonly startedAt: string;
  /** How to start it again (restart); absent for containers. */
  readonly recipe?: Recipe;
  /** Set for testcontainers launches kept by the CLI: stopped with `docker rm -f`. */
  readonly containerId?: string;
}

const fileOf = (key: string) => join(brokersDir, key, 'launch.json');

export function readRecord(key: string): LaunchRecord | undefined {
  try {
    return JSON.parse(readFileSync(fileOf(key), 'utf8')) as LaunchRecord;
  } catch {
    return undefined;
  }
}

export function writeRecord(record: LaunchRecord): void {
  const file = fileOf(record.key);
  mkdirSync(join(brokersDir, record.key), { recursive: true });
  // Rename so a reader in another process never sees half a file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removeRecord(key: string): void {
  rmSync(fileOf(key), { force: true });
}

export function allRecords(): LaunchRecord[] {
  let keys: string[];
  try {
    keys = readdirSync(brokersDir);
  } catch {
    return [];
  }
  return keys.map(readRecord).filter((record): record is LaunchRecord => record !== undefined);
}
