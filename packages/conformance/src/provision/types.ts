/** The brokers the conformance suite runs against. */
export const BROKER_NAMES = ['kafka', 'rabbitmq', 'sqs', 'nats'] as const;
export type BrokerName = (typeof BROKER_NAMES)[number];

export type SqsEmulator = 'fauxqs' | 'elasticmq';

/**
 * How a broker was made ready, in resolution order: an env var named it, a previous run of the
 * provisioning left it running (.brokers/), something already listened on its default port,
 * testcontainers started it, or it was launched here as a local process.
 */
export type Provisioning = 'env' | 'previous-run' | 'running' | 'docker' | 'launched' | 'none';

/** One broker as tests see it (`inject('brokers')`): plain data, so it crosses to test workers. */
export interface BrokerEndpoint {
  readonly name: BrokerName;
  readonly available: boolean;
  /** The value of the broker's env var (KAFKA_BROKERS, AMQP_URL, SQS_ENDPOINT, NATS_URL); '' if unavailable. */
  readonly url: string;
  readonly provisioned: Provisioning;
  /** Server version as the broker reported it (or as launched); '' if unknown. */
  readonly version: string;
  /** From the start of resolution to a successful round trip. */
  readonly readyMs: number;
  /** Why the broker is unavailable. */
  readonly reason?: string;
  /** Launched here: its process id and log file (for a failing test's post-mortem). */
  readonly pid?: number;
  readonly logFile?: string;
  /** SQS only: which emulator, and whether it also answers SNS (the transport's fan-out). */
  readonly emulator?: string;
  readonly sns?: boolean;
}

export type ProvidedBrokers = Partial<Record<BrokerName, BrokerEndpoint>>;

/** Who asked for a launch; recorded so teardown stops only its own. */
export type Owner = 'setup' | 'cli' | 'api';

export interface ResolveOptions {
  /** Brokers to resolve; default: env BROKERS (comma-separated) or all four. */
  readonly brokers?: readonly BrokerName[];
  /** Launch what is missing (default true); false only looks (status). */
  readonly launch?: boolean;
  readonly owner?: Owner;
  /** Default: env SQS_EMULATOR or fauxqs. */
  readonly sqsEmulator?: SqsEmulator;
  /** Default: env KAFKA_VERSION or the pinned 3.9 patch. */
  readonly kafkaVersion?: string;
  /** Progress lines (slow steps: jar fetch, JVM start). */
  readonly log?: (line: string) => void;
}

/** Result of one probe: a real round trip through the broker. */
export interface ProbeResult {
  readonly version: string;
  readonly sns?: boolean;
}
