// The `switchyard` CLI run as a user runs it (a child process, from source): a bad command line
// exits 2 with the usage before any broker is contacted (the README's promise), and the URL's
// credentials are never printed.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sweepBroker, uniqueName } from '@switchyard/conformance';
import { connect, handle, NonRetryableError } from '@switchyard/core';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// Nothing listens on port 1: connecting would fail with exit 1, so exit 2 shows nothing was tried.
const nowhere = 'amqp://someone:s3cret@127.0.0.1:1';

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@switchyard/source', cli, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('switchyard CLI command line', () => {
  it('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('switchyard dlq <url> <topic>');
  });

  // Before, `--limit abc` reached bus.deadLetters as NaN and printed [] for a DLQ with letters;
  // `--port abc` and `--watch ab` exited 1 as if the broker had failed.
  it.each([
    [['dlq', nowhere, 'orders', '--group', 'g', 'list', '--limit', 'abc'], /--limit must be a whole number/],
    [['dlq', nowhere, 'orders', '--group', 'g', 'list', '--limit', '0'], /--limit must be a whole number/],
    [['dlq', nowhere, 'orders', '--group', 'g', 'lst'], /unknown dlq action 'lst'/],
    [['frobnicate', nowhere, 'orders', '--group', 'g'], /unknown command 'frobnicate'/],
    [['dashboard', '--url', nowhere, '--watch', 'orders'], /--watch: expected topic:group/],
    [
      ['dashboard', '--url', nowhere, '--watch', 'orders:g', '--port', 'abc'],
      /--port must be a whole number/,
    ],
    [
      ['dashboard', '--url', nowhere, '--watch', 'orders:g', '--port', '70000'],
      /--port must be a whole number/,
    ],
  ])('%j exits 2 with the usage, before connecting', async (args, message) => {
    const { code, stderr } = await run(...args);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage:');
    expect(code).toBe(2);
    expect(stderr).not.toContain('s3cret');
  });

  it('a broker that cannot be reached exits 1, its URL printed without credentials', async () => {
    const { code, stderr } = await run('inspect', nowhere, 'orders', '--group', 'g');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^switchyard: /);
    expect(stderr).not.toContain('s3cret');
    expect(stderr).not.toContain('someone');
  });

  it('on Kafka prints no TimeoutNegativeWarning (kafkajs on Node 24)', async () => {
    const kafka = process.env.KAFKA_BROKERS || '127.0.0.1:9092';
    // A topic that does not exist: inspect reads metadata only, creates nothing, exits 1.
    const { code, stderr } = await run(
      'inspect',
      `kafka://${kafka}`,
      `sy-cli-missing-${process.pid}`,
      '--group',
      'g',
    );
    expect(stderr).toMatch(/NotFoundError/);
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/TimeoutNegativeWarning/);
  });
});

describe('switchyard dlq on NATS', () => {
  const nats = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const topic = uniqueName('cli-dlq');
  afterAll(async () => {
    await sweepBroker('nats', nats, { match: (t) => t.startsWith(topic) });
  });

  it('prints groups, list and a dry-run redrive as text, and as JSON with --json', {
    timeout: 60_000,
  }, async () => {
    const bus = await connect({ url: nats, source: 'cli-test' });
    try {
      await bus.provision(topic, { groups: ['billing'] });
      const outcomes = bus.consume(topic, { group: 'billing' }).pipe(
        handle(() => {
          throw new NonRetryableError('cannot price order');
        }),
      );
      const deadLettered = firstValueFrom(outcomes.pipe(filter((o) => o.kind === 'deadLettered')));
      const sent = await bus.publish(topic, { type: 'order.poison', data: { n: 1 } });
      await deadLettered;

      const url = nats;
      const groups = await run('dlq', url, topic, '--group', 'billing', 'groups');
      expect(groups.stderr).toBe('');
      expect(groups.stdout).toMatch(/1 dead letters/);
      expect(groups.stdout).toMatch(/order\.poison .*cannot price order/);

      const list = await run('dlq', url, topic, '--group', 'billing', 'list');
      expect(list.stdout).toContain(sent.id);
      const listed = JSON.parse(
        (await run('dlq', url, topic, '--group', 'billing', 'list', '--json')).stdout,
      );
      expect(listed.map((letter: { id: string }) => letter.id)).toEqual([sent.id]);

      const dry = await run('dlq', url, topic, '--group', 'billing', 'redrive', '--dry-run');
      expect(dry.stdout).toMatch(/dry run, nothing sent: 1 scanned, redriven 1/);
      const report = JSON.parse(
        (await run('dlq', url, topic, '--group', 'billing', 'redrive', '--dry-run', '--json')).stdout,
      );
      expect(report).toMatchObject({ dryRun: true, scanned: 1, redriven: 1 });
    } finally {
      await bus.close({ drainTimeoutMs: 5_000 });
    }
  });
});
