import { probeKafka } from './kafka/health.ts';
import { prepareKafka } from './kafka/launch.ts';
import { probeNats } from './nats/health.ts';
import type { Recipe } from './process.ts';
import { diagnoseRabbitMq } from './rabbitmq/diagnose.ts';
import { probeRabbitMq } from './rabbitmq/health.ts';
import { ELASTICMQ_PORT, prepareElasticMq } from './sqs/elasticmq-launch.ts';
import { fauxqsPort, prepareFauxqs } from './sqs/fauxqs-launch.ts';
import { probeSqs } from './sqs/health.ts';
import type { BrokerName, ProbeResult, SqsEmulator } from './types.ts';

export interface Prepared {
  readonly recipe: Recipe;
  readonly url: string;
  readonly version: string;
}

/** What the resolution needs to know about one broker. */
export interface Driver {
  readonly name: BrokerName;
  /** The variable that names it (and that the setup exports for the tests). */
  readonly envVar: string;
  readonly defaultPort: number;
  readonly defaultUrl: string;
  /** .brokers/<key>/ holds its launch record; absent for brokers never launched here. */
  readonly key?: string;
  readonly emulator?: SqsEmulator;
  probe(url: string): Promise<ProbeResult>;
  /** Jars, config, data dir: everything up to the command that starts it. */
  prepare?(log: (line: string) => void): Promise<Prepared>;
  /** For brokers the provisioning does not launch: the command that starts the machine's service. */
  readonly startHint?: string;
  readonly readyTimeoutMs: number;
  /** Extra facts for the failure message when a broker listens but fails the round trip. */
  diagnose?(): Promise<string>;
}

export const ENV_VARS: Record<BrokerName, string> = {
  kafka: 'KAFKA_BROKERS',
  rabbitmq: 'AMQP_URL',
  sqs: 'SQS_ENDPOINT',
  nats: 'NATS_URL',
};

export function driverFor(
  name: BrokerName,
  options: { kafkaVersion: string; emulator: SqsEmulator },
): Driver {
  const envVar = ENV_VARS[name];
  switch (name) {
    case 'kafka':
      return {
        name,
        envVar,
        defaultPort: 9092,
        defaultUrl: '127.0.0.1:9092',
        key: 'kafka',
        probe: probeKafka,
        prepare: async (log) => {
          const prepared = await prepareKafka(options.kafkaVersion, log);
          if (prepared.fetchMs > 0) log(`kafka: mvn fetched the jars in ${prepared.fetchMs} ms`);
          return { ...prepared, version: `Apache Kafka ${prepared.version}` };
        },
        // A cold JVM on 2 busy cores, plus __consumer_offsets creation for the coordinator check.
        readyTimeoutMs: 180_000,
      };
    case 'rabbitmq':
      return {
        name,
        envVar,
        defaultPort: 5672,
        defaultUrl: 'amqp://guest:guest@127.0.0.1:5672',
        probe: probeRabbitMq,
        startHint: 'rabbitmq-server -detached',
        // A node that was just (re)started accepts TCP before it answers AMQP; on 2 cores busy
        // with a JVM starting next to it, that can take a minute.
        readyTimeoutMs: 90_000,
        diagnose: diagnoseRabbitMq,
      };
    case 'nats':
      return {
        name,
        envVar,
        defaultPort: 4222,
        defaultUrl: 'nats://127.0.0.1:4222',
        probe: probeNats,
        startHint:
          'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server',
        readyTimeoutMs: 30_000,
      };
    case 'sqs':
      if (options.emulator === 'elasticmq') {
        return {
          name,
          envVar,
          defaultPort: ELASTICMQ_PORT,
          defaultUrl: `http://127.0.0.1:${ELASTICMQ_PORT}`,
          key: 'elasticmq',
          emulator: 'elasticmq',
          probe: probeSqs,
          prepare: async (log) => {
            const prepared = await prepareElasticMq(log);
            if (prepared.fetchMs > 0) log(`sqs: mvn fetched ElasticMQ in ${prepared.fetchMs} ms`);
            return prepared;
          },
          readyTimeoutMs: 90_000,
        };
      }
      return {
        name,
        envVar,
        defaultPort: fauxqsPort(),
        defaultUrl: `http://127.0.0.1:${fauxqsPort()}`,
        key: 'fauxqs',
        emulator: 'fauxqs',
        probe: probeSqs,
        prepare: async () => prepareFauxqs(),
        readyTimeoutMs: 30_000,
      };
  }
}
