import { request } from 'node:http';
import type { BrokerName, SqsEmulator } from './types.ts';

/** Cheap check before importing testcontainers (slow to load): does a Docker engine answer /_ping? */
export function dockerReachable(timeoutMs = 1_000): Promise<boolean> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const target = host.startsWith('unix://')
    ? { socketPath: host.slice('unix://'.length) }
    : (() => {
        const url = new URL(host.replace(/^tcp:/, 'http:'));
        return { host: url.hostname, port: Number(url.port || 2375) };
      })();
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface DockerBroker {
  readonly url: string;
  readonly containerId: string;
  stop(): Promise<void>;
}

interface Spec {
  readonly image: string;
  readonly port: number;
  /** Fixed host port: Kafka must advertise the address clients dial, known before start. */
  readonly hostPort?: number;
  readonly env?: Record<string, string>;
  readonly command?: string[];
  readonly url: (host: string, port: number) => string;
}

function spec(name: BrokerName, kafkaVersion: string, emulator: SqsEmulator): Spec {
  switch (name) {
    case 'kafka':
      return {
        image: `apache/kafka:${kafkaVersion}`,
        port: 9092,
        hostPort: 9092,
        env: {
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
          KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:9092',
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
          KAFKA_NUM_PARTITIONS: '3',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        },
        url: (host, port) => `${host === 'localhost' ? '127.0.0.1' : host}:${port}`,
      };
    case 'rabbitmq':
      return {
        image: 'rabbitmq:4-alpine',
        port: 5672,
        url: (host, port) => `amqp://guest:guest@${host}:${port}`,
      };
    case 'nats':
      return { image: 'nats:2', port: 4222, command: ['-js'], url: (host, port) => `nats://${host}:${port}` };
    case 'sqs':
      return emulator === 'elasticmq'
        ? {
            image: 'softwaremill/elasticmq-native:1.7.1',
            port: 9324,
            url: (host, port) => `http://${host}:${port}`,
          }
        : { image: 'kibertoad/fauxqs:2.4.1', port: 4566, url: (host, port) => `http://${host}:${port}` };
  }
}

/**
 * Start the broker with testcontainers (its Ryuk reaper removes the container if we die).
 * `keep` (the CLI's `up`) turns the reaper off so the container outlives this process.
 */
export async function startContainer(
  name: BrokerName,
  options: { kafkaVersion: string; emulator: SqsEmulator; keep: boolean },
): Promise<DockerBroker> {
  if (options.keep) process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const { GenericContainer } = await import('testcontainers');
  const s = spec(name, options.kafkaVersion, options.emulator);
  let container = new GenericContainer(s.image)
    .withExposedPorts(s.hostPort ? { container: s.port, host: s.hostPort } : s.port)
    .withStartupTimeout(180_000);
  if (s.env) container = container.withEnvironment(s.env);
  if (s.command) container = container.withCommand(s.command);
  const started = await container.start();
  return {
    url: s.url(started.getHost(), started.getMappedPort(s.port)),
    containerId: started.getId(),
    stop: async () => {
      await started.stop();
    },
  };
}
