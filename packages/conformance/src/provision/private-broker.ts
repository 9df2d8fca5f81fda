import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { driverFor } from './drivers.ts';
import { prepareKafka } from './kafka/launch.ts';
import { removeRecord, writeRecord } from './launch-record.ts';
import { kafkaVersionFromEnv } from './options.ts';
import { brokersDir } from './paths.ts';
import { isAlive, launchDetached, type Recipe, stopProcessGroup } from './process.ts';
import { prepareFauxqs } from './sqs/fauxqs-launch.ts';
import { isListening, messageOf, retryUntil, sleep } from './wait.ts';

const run = promisify(execFile);

export interface RestartTiming {
  /** From the stop request until the new process was started. */
  readonly downMs: number;
  /** From the new process's start until a full round trip succeeded. */
  readonly readyMs: number;
}

export type PrivateBrokerName = 'kafka' | 'rabbitmq' | 'nats' | 'sqs';

/**
 * A broker of one test's own, beside the shared one: the broker-restart case bounces it without
 * taking the broker away from every other test file running at the same time.
 */
export interface PrivateBroker {
  readonly name: PrivateBrokerName;
  /** In the form of the broker's env var: 127.0.0.1:port, amqp://…, nats://…. */
  readonly url: string;
  /** RabbitMQ launched with `{ management: true }`: its management API, `http://127.0.0.1:port`. */
  readonly managementUrl?: string;
  readonly version: string;
  /** Stop the process (a clean SIGTERM shutdown), start it again on the same data, wait for a round trip. */
  restart(): Promise<RestartTiming>;
  /** Stop it and delete its data. */
  stop(): Promise<void>;
}

/**
 * Launch a private broker as a local process (Kafka from the jars the provisioning fetched,
 * nats-server and rabbitmq-server from the machine's packages, fauxqs with its state on disk), ready when it answers a real
 * round trip. Throws, saying why, when this machine cannot run one.
 */
export async function launchPrivateBroker(
  name: PrivateBrokerName,
  options: { management?: boolean } = {},
): Promise<PrivateBroker> {
  const [port, second, third] = await freePorts(3);
  const home = join(brokersDir, 'private', `${name}-${port}`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const managementPort = name === 'rabbitmq' && options.management ? third : undefined;
  const { recipe, url, version } = await recipeFor(name, home, port!, second!, managementPort);
  const driver = driverFor(name, { kafkaVersion: kafkaVersionFromEnv(), emulator: 'fauxqs' });
  const key = `private-${name}-${port}`;

  let pid = 0;
  const start = async (): Promise<string> => {
    pid = launchDetached(recipe);
    // A record like the shared brokers' so `pnpm brokers down` stops one a crashed test left behind.
    writeRecord({
      key,
      broker: name,
      pid,
      url,
      version,
      owner: 'api',
      ownerToken: key,
      startedAt: new Date().toISOString(),
      recipe,
    });
    const probed = await retryUntil(() => driver.probe(url), {
      timeoutMs: driver.name === 'kafka' ? 180_000 : 90_000,
      intervalMs: 250,
      giveUp: () => (isAlive(pid) ? undefined : `the private ${name} exited (see ${recipe.logFile})`),
    });
    return probed.version;
  };
  const stop = async () => {
    await stopGone(pid, port!);
    removeRecord(key);
    // The record's folder too: a private broker's key is used once.
    rmSync(join(brokersDir, key), { recursive: true, force: true });
  };

  let probedVersion: string;
  try {
    probedVersion = await start();
  } catch (error) {
    await stop();
    throw new Error(`could not launch a private ${name}: ${messageOf(error)}`);
  }
  return {
    name,
    url,
    ...(managementPort === undefined ? {} : { managementUrl: `http://127.0.0.1:${managementPort}` }),
    version: version || probedVersion,
    async restart() {
      const stopping = Date.now();
      await stopGone(pid, port!);
      const starting = Date.now();
      await start();
      return { downMs: starting - stopping, readyMs: Date.now() - starting };
    },
    async stop() {
      await stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function recipeFor(
  name: PrivateBrokerName,
  home: string,
  port: number,
  second: number,
  managementPort?: number,
): Promise<{ recipe: Recipe; url: string; version: string }> {
  const logFile = join(home, `${name}.log`);
  switch (name) {
    case 'kafka': {
      const version = kafkaVersionFromEnv();
      const prepared = await prepareKafka(version, () => {}, { home, port, controllerPort: second });
      return { recipe: prepared.recipe, url: prepared.url, version: `Apache Kafka ${version}` };
    }
    case 'sqs': {
      // fauxqs with its SQLite store: the in-memory default would lose every queue on restart.
      mkdirSync(join(home, 'state'), { recursive: true });
      const prepared = prepareFauxqs(port, { home });
      return { ...prepared, version: `${prepared.version} (persistent)` };
    }
    case 'nats': {
      const command = findBinary('nats-server', ['/usr/sbin/nats-server', '/usr/bin/nats-server']);
      const store = join(home, 'jetstream');
      return {
        recipe: {
          command,
          args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store],
          cwd: home,
          logFile,
          marker: store,
        },
        url: `nats://127.0.0.1:${port}`,
        version: '',
      };
    }
    case 'rabbitmq': {
      // The inner script, not /usr/sbin's wrapper: the wrapper's `su` leaves our process group,
      // and then stopping the group would not stop the node.
      const command = findBinary('rabbitmq-server', [
        '/usr/lib/rabbitmq/bin/rabbitmq-server',
        '/usr/sbin/rabbitmq-server',
      ]);
      const mnesia = join(home, 'mnesia');
      const logs = join(home, 'logs');
      mkdirSync(mnesia, { recursive: true });
      mkdirSync(logs, { recursive: true });
      const plugins = join(home, 'enabled_plugins');
      writeFileSync(plugins, managementPort === undefined ? '[].\n' : '[rabbitmq_management].\n');
      // With the management API: on 127.0.0.1 only, statistics every second (default 5) for tests.
      const config = join(home, 'rabbitmq.conf');
      if (managementPort !== undefined) {
        writeFileSync(
          config,
          `management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = ${managementPort}\ncollect_statistics_interval = 1000\n`,
        );
      }
      // RabbitMQ refuses to run as root; as root, start it as the package's rabbitmq user, who
      // must own its dirs and whose home holds the Erlang cookie the node's CLI tools share.
      const user = process.getuid?.() === 0 ? await systemUser('rabbitmq') : undefined;
      if (user) await run('chown', ['-R', `${user.uid}:${user.gid}`, home]);
      return {
        recipe: {
          command,
          args: [],
          cwd: home,
          logFile,
          env: {
            RABBITMQ_NODENAME: `switchyard-${port}@localhost`,
            RABBITMQ_NODE_PORT: String(port),
            RABBITMQ_DIST_PORT: String(second),
            RABBITMQ_MNESIA_BASE: mnesia,
            RABBITMQ_LOG_BASE: logs,
            RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
            RABBITMQ_PID_FILE: join(home, 'rabbitmq.pid'),
            RABBITMQ_CONFIG_FILE: managementPort === undefined ? join(home, 'none') : config,
            ...(user ? { HOME: user.home } : {}),
          },
          ...(user ? { uid: user.uid, gid: user.gid } : {}),
          // The node's command line names none of our paths: the pid alone identifies it.
          marker: '',
        },
        url: `amqp://guest:guest@127.0.0.1:${port}`,
        version: '',
      };
    }
  }
}

async function systemUser(name: string): Promise<{ uid: number; gid: number; home: string } | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    const [, , uid, gid, , home] = stdout.trim().split(':');
    return { uid: Number(uid), gid: Number(gid), home: home ?? '/' };
  } catch {
    return undefined;
  }
}

/** Stop the process group, then make sure nothing of it still holds the port (a restart reuses it). */
async function stopGone(pid: number, port: number): Promise<void> {
  await stopProcessGroup(pid);
  const deadline = Date.now() + 30_000;
  while (await isListening('127.0.0.1', port)) {
    if (Date.now() > deadline)
      throw new Error(`127.0.0.1:${port} still listens after its broker was stopped`);
    await sleep(100);
  }
}

function findBinary(name: string, candidates: readonly string[]): string {
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`no ${name} on this machine (looked in ${candidates.join(', ')})`);
  return found;
}

/** Ports the kernel says are free on 127.0.0.1 right now (a race we accept on a test machine). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
