// `pnpm brokers` probes and sweeps Kafka with raw kafkajs, which on Node 24 printed kafkajs's
// TimeoutNegativeWarning (its idle request queues re-arm a timer with a negative delay). run.mjs
// preloads the fix @switchyard/kafka installs; this runs the command as a developer would.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, inject, test } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const brokers = inject('brokers') ?? {};

test('pnpm brokers sweep --dry-run prints no TimeoutNegativeWarning', async (context) => {
  if (!brokers.kafka) context.skip('kafka was not asked for in this run (BROKERS or SWITCHYARD_NO_BROKERS)');
  const child = spawn(process.execPath, ['scripts/run.mjs', 'brokers', 'sweep', '--dry-run'], {
    cwd: root,
    env: { ...process.env, BROKERS: 'kafka' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(output).toMatch(/^kafka: \d+ topics/m);
  expect(output).not.toContain('TimeoutNegativeWarning');
  expect(code).toBe(0);
}, 120_000);
