import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fetchJars } from '../mvn-fetch.ts';
import { brokersDir, scriptsDir } from '../paths.ts';
import type { Recipe } from '../process.ts';
import { serverProperties } from './server-properties.ts';

const run = promisify(execFile);

/** Latest 3.9 patch on Maven Central when this was written; KAFKA_VERSION picks another. */
export const DEFAULT_KAFKA_VERSION = '3.9.2';

export interface Prepared {
  readonly recipe: Recipe;
  readonly url: string;
  readonly version: string;
  readonly fetchMs: number;
}

/**
 * Everything before `java kafka.Kafka`: jars from Maven Central (cached in .brokers/kafka/<v>/lib),
 * server.properties, and the storage formatted once (a restart reuses the same data dir).
 */
export async function prepareKafka(
  version: string,
  log: (line: string) => void,
  /** A second broker beside the shared one (the restart case's): its own dir and ports, same jars. */
  place: { home?: string; port?: number; controllerPort?: number } = {},
): Promise<Prepared> {
  const jars = join(brokersDir, 'kafka', version);
  const home = place.home ?? jars;
  const port = place.port ?? 9092;
  const major = Number(version.split('.')[0]);
  const lib = join(jars, 'lib');
  if (!existsSync(join(lib, '.complete')))
    log(`kafka: fetching Apache Kafka ${version} with mvn (first run only)`);
  const properties: Record<string, string> = { 'kafka.version': version };
  if (major >= 4) properties['kafka.log4j2'] = 'true';
  const { fetchMs } = await fetchJars(join(scriptsDir, 'kafka', 'pom.xml'), lib, properties);

  const dataDir = join(home, 'data');
  const config = join(home, 'server.properties');
  mkdirSync(home, { recursive: true });
  writeFileSync(config, serverProperties(dataDir, port, place.controllerPort ?? 9093));

  const logging =
    major >= 4
      ? `-Dlog4j2.configurationFile=${join(scriptsDir, 'kafka', 'log4j2.properties')}`
      : `-Dlog4j.configuration=file:${join(scriptsDir, 'kafka', 'log4j.properties')}`;
  const jvm = [
    '-Xms256m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    logging,
    `-Dkafka.logs.dir=${join(home, 'logs')}`,
    '-cp',
    `${lib}/*`,
  ];
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    // Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding. One in 64 starts
    // with '-', which StorageTool's argument parser takes for an option ("-t: expected one
    // argument"); Kafka's own Uuid.randomUuid() draws again in that case, and so do we.
    let clusterId: string;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    await run('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config]).catch(
      (error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`kafka-storage format failed: ${error.stderr || error.stdout || error.message}`);
      },
    );
  }
  return {
    recipe: {
      command: 'java',
      args: [...jvm, 'kafka.Kafka', config],
      cwd: home,
      logFile: join(home, 'kafka.log'),
      marker: config,
    },
    url: `127.0.0.1:${port}`,
    version,
    fetchMs,
  };
}
