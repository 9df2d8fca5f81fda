// `pnpm brokers up|down|status|sweep`: brokers for a developer's session, outliving the command.
import { describeCount, sweepBroker } from '../sweep/index.ts';
import { brokersFromEnv } from './options.ts';
import { maskUrl } from './redact.ts';
import { resolveBrokers } from './resolve.ts';
import { stopLaunched } from './stop.ts';
import { resolveStores } from './stores/resolve.ts';
import { formatTable } from './table.ts';
import type { BrokerName } from './types.ts';

const USAGE = `usage: pnpm brokers up|down|status|sweep
  up      make every broker ready; what it launches keeps running (recorded in .brokers/)
  down    stop the brokers the provisioning launched
  status  show each broker: address, how it was provisioned, server version
  sweep   remove the topics, queues and streams tests and demos left on the running brokers
          (by their name prefixes, packages/conformance/src/sweep/prefixes.ts); --dry-run counts only.
          Not while tests run: a name a running test uses looks like a leftover
env: BROKERS=kafka,nats (subset)  SQS_EMULATOR=fauxqs|elasticmq  KAFKA_VERSION=3.9.2
     KAFKA_BROKERS AMQP_URL SQS_ENDPOINT NATS_URL (use these instead)
     status also shows PostgreSQL and Redis (DATABASE_URL, REDIS_URL; STORES=postgres,redis|none)`;

async function main(command: string | undefined): Promise<number> {
  const brokers = brokersFromEnv();
  switch (command) {
    case 'up': {
      const result = await resolveBrokers({ brokers, owner: 'cli', log: (line) => console.error(line) });
      console.log(formatTable(result.brokers));
      return result.brokers.every((b) => b.available) ? 0 : 1;
    }
    case 'status': {
      // The state packages' databases are never launched here: status shows what their tests would find.
      const [result, stores] = await Promise.all([
        resolveBrokers({ brokers, launch: false }),
        resolveStores(undefined, { launch: false }),
      ]);
      console.log(formatTable([...result.brokers, ...stores.stores], { timing: false }));
      return 0;
    }
    case 'down': {
      const stopped = await stopLaunched(brokers);
      for (const record of stopped) {
        console.log(
          `stopped ${record.key} (${record.containerId ? `container ${record.containerId.slice(0, 12)}` : `pid ${record.pid}`}) at ${maskUrl(record.url)}`,
        );
      }
      if (stopped.length === 0) console.log('nothing launched by the provisioning is running');
      return 0;
    }
    case 'sweep':
      return sweep(brokers, process.argv.includes('--dry-run'));
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' ? 0 : 2;
  }
}

/** Count, remove, count again: the second count is what a sweep could not remove. */
async function sweep(brokers: readonly BrokerName[], dryRun: boolean): Promise<number> {
  const result = await resolveBrokers({ brokers, launch: false });
  let failed = 0;
  for (const broker of result.brokers) {
    if (!broker.available) {
      console.log(`${broker.name}: not running, nothing to sweep`);
      continue;
    }
    try {
      const before = await sweepBroker(broker.name, broker.url, { dryRun });
      if (dryRun) {
        console.log(`${broker.name}: ${describeCount(before)} left by tests and demos`);
        continue;
      }
      const after = await sweepBroker(broker.name, broker.url, { dryRun: true });
      console.log(`${broker.name}: removed ${describeCount(before)}; left now: ${describeCount(after)}`);
      if (after.names + (after.extra ?? 0) > 0) failed++;
    } catch (error) {
      failed++;
      console.log(`${broker.name}: ${maskUrl(error instanceof Error ? error.message : String(error))}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(maskUrl(error instanceof Error ? error.message : String(error)));
    process.exitCode = 1;
  },
);
