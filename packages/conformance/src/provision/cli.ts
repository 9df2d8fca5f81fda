// `pnpm brokers up|down|status`: brokers for a developer's session, outliving the command.
import { brokersFromEnv } from './options.ts';
import { maskUrl } from './redact.ts';
import { resolveBrokers } from './resolve.ts';
import { stopLaunched } from './stop.ts';
import { resolveStores } from './stores/resolve.ts';
import { formatTable } from './table.ts';

const USAGE = `usage: pnpm brokers up|down|status
  up      make every broker ready; what it launches keeps running (recorded in .brokers/)
  down    stop the brokers the provisioning launched
  status  show each broker: address, how it was provisioned, server version
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
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' ? 0 : 2;
  }
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
