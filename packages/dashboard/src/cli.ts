#!/usr/bin/env node
// `switchyard inspect|dlq|dashboard`: the dashboard's figures in a terminal, and the page itself.
import { parseArgs } from 'node:util';
import {
  type Bus,
  connect,
  type DeadLetter,
  type DeadLetterGroup,
  type RedriveReport,
  redactUrl,
} from '@switchyard/core';
import { parseWatch } from './ops-bus.ts';
import { dashboard } from './server.ts';

const USAGE = `usage:
  switchyard inspect <url> <topic> --group <group> [--json]
  switchyard dlq <url> <topic> --group <group> [groups|list|redrive] [--limit N] [--dry-run] [--json]
  switchyard dashboard --url <url> --watch <topic:group> [--watch ...] [--port N] [--host H]

<url> is a broker URL as connect() takes it (memory://, kafka://, amqp://, sqs://, nats://);
SWITCHYARD_URL is used when it is left out of 'dashboard'.`;

/** Thrown for a command line that cannot be run; printed with the usage, exit code 2. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      group: { type: 'string' },
      json: { type: 'boolean', default: false },
      limit: { type: 'string', default: '20' },
      'dry-run': { type: 'boolean', default: false },
      url: { type: 'string' },
      watch: { type: 'string', multiple: true },
      port: { type: 'string', default: '4380' },
      host: { type: 'string', default: '127.0.0.1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const print = (value: unknown, text: () => string) =>
    console.log(values.json ? JSON.stringify(value, null, 2) : text());

  if (command === 'dashboard') {
    const url = values.url ?? process.env.SWITCHYARD_URL;
    if (!url) throw new UsageError('dashboard needs --url (or SWITCHYARD_URL)');
    const watch = (values.watch ?? []).map((text) => {
      try {
        return parseWatch(text);
      } catch (error) {
        throw new UsageError(`--watch: ${(error as Error).message}`);
      }
    });
    if (watch.length === 0) throw new UsageError('dashboard needs at least one --watch topic:group');
    const port = integer('--port', values.port, 0, 65_535);
    const bus = await open(url);
    const page = await dashboard({ bus, watch, port, host: values.host });
    console.log(`switchyard dashboard for ${redactUrl(url)} at ${page.url} (Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await page.close();
    await bus.close({ drainTimeoutMs: 5_000 });
    return 0;
  }

  const [url, topic, action = 'groups'] = rest;
  if (!url || !topic) throw new UsageError(`${command} needs <url> <topic>`);
  if (!values.group) throw new UsageError(`${command} needs --group`);
  const group = values.group;
  if (command !== 'inspect' && command !== 'dlq') throw new UsageError(`unknown command '${command}'`);
  if (command === 'dlq' && !DLQ_ACTIONS.includes(action))
    throw new UsageError(`unknown dlq action '${action}'`);
  // Checked before connecting: a typo is a usage error (exit 2), not a broker's (exit 1).
  const limit = integer('--limit', values.limit, 1, Number.MAX_SAFE_INTEGER);
  const bus = await open(url);
  try {
    if (command === 'inspect') {
      const inspection = await bus.inspect(topic, { group });
      print(inspection, () =>
        [
          `${topic} / ${group}: ${inspection.status}`,
          `  backlog      ${figure(inspection.backlog)}   (${inspection.definitions.backlog})`,
          `  in flight    ${figure(inspection.inFlight)}   (${inspection.definitions.inFlight})`,
          `  oldest age   ${figure(inspection.oldestAgeMs, ' ms')}   (${inspection.definitions.oldestAge})`,
          `  dead letters ${figure(inspection.deadLetters)}`,
        ].join('\n'),
      );
      return 0;
    }
    if (command === 'dlq') {
      const view = bus.deadLetters(topic, { group });
      if (action === 'groups') {
        const groups = await view.groups();
        print(groups, () => groupsText(view.topic, groups));
      } else if (action === 'list') {
        const letters = await view.inspect({ limit });
        print(letters, () => lettersText(view.topic, letters));
      } else {
        const report = await view.redrive({ dryRun: values['dry-run'] });
        print(report, () => redriveText(view.topic, report));
      }
      return 0;
    }
    throw new UsageError(`unknown command '${command}'`);
  } finally {
    await bus.close({ drainTimeoutMs: 5_000 });
  }
}

function open(url: string): Promise<Bus> {
  return connect({ url, source: 'switchyard-cli' });
}

const DLQ_ACTIONS = ['groups', 'list', 'redrive'];

/** A whole number option in [min, max]; `Number('abc')` is NaN, which would reach the API as a limit. */
function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    throw new UsageError(
      `${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, not '${text}'`,
    );
  return value;
}

function groupsText(dlq: string, groups: readonly DeadLetterGroup[]): string {
  if (groups.length === 0) return `${dlq}: no dead letters`;
  return [
    `${dlq}: ${groups.reduce((sum, g) => sum + g.count, 0)} dead letters`,
    ...groups.map(
      (g) =>
        `  ${String(g.count).padStart(6)}  ${g.type ?? '(not an event)'}  ${g.reason ?? '(no reason)'}  ${g.first ?? '—'} … ${g.last ?? '—'}`,
    ),
  ].join('\n');
}

function lettersText(dlq: string, letters: readonly DeadLetter[]): string {
  if (letters.length === 0) return `${dlq}: no dead letters`;
  return [
    `${dlq}: ${letters.length} dead letters, oldest first (--json for headers and data)`,
    ...letters.map(
      (l) =>
        `  ${l.deadLetteredAt ?? '—'}  ${l.id ?? '(no id)'}  ${l.type ?? '(not an event)'}  attempts ${l.attempts ?? '—'}, redriven ${l.redriveCount}×  ${l.reason ?? '(no reason)'}`,
    ),
  ].join('\n');
}

function redriveText(dlq: string, r: RedriveReport): string {
  const counts = (
    ['redriven', 'parked', 'skipped', 'returned', 'unroutable', 'duplicates', 'failed'] as const
  )
    .filter((name) => name === 'redriven' || r[name] > 0)
    .map((name) => `${name} ${r[name]}`);
  return [
    `${dlq}: ${r.dryRun ? 'dry run, nothing sent: ' : ''}${r.scanned} scanned, ${counts.join(', ')} (${r.stopped}, ${Math.round(r.durationMs)} ms)`,
    ...Object.entries(r.destinations).map(([to, n]) => `  → ${to}: ${n}`),
    ...(r.parked > 0 ? [`  parked in ${r.parkedTopic}`] : []),
    ...r.errors.map((e) => `  failed: ${e}`),
  ].join('\n');
}

function figure(value: number | null, unit = ''): string {
  return value === null ? '—' : `${value}${unit}`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`switchyard: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(
        `switchyard: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
      process.exitCode = 1;
    }
  },
);
