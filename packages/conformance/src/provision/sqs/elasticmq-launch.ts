import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fetchJars } from '../mvn-fetch.ts';
import { brokersDir, scriptsDir } from '../paths.ts';
import type { Recipe } from '../process.ts';

export const ELASTICMQ_VERSION = '1.7.1';
/** Fixed in scripts/elasticmq/elasticmq.conf. */
export const ELASTICMQ_PORT = 9324;

export async function prepareElasticMq(
  log: (line: string) => void,
): Promise<{ recipe: Recipe; url: string; version: string; fetchMs: number }> {
  const home = join(brokersDir, 'elasticmq', ELASTICMQ_VERSION);
  const lib = join(home, 'lib');
  if (!existsSync(join(lib, '.complete')))
    log(`sqs: fetching ElasticMQ ${ELASTICMQ_VERSION} with mvn (first run only)`);
  const { fetchMs } = await fetchJars(join(scriptsDir, 'elasticmq', 'pom.xml'), lib, {
    'elasticmq.version': ELASTICMQ_VERSION,
  });
  const config = join(scriptsDir, 'elasticmq', 'elasticmq.conf');
  return {
    recipe: {
      command: 'java',
      args: [
        '-Xms64m',
        '-Xmx256m',
        `-Dconfig.file=${config}`,
        '-cp',
        `${lib}/*`,
        'org.elasticmq.server.Main',
      ],
      cwd: home,
      logFile: join(home, 'elasticmq.log'),
      marker: config,
    },
    url: `http://127.0.0.1:${ELASTICMQ_PORT}`,
    version: `ElasticMQ ${ELASTICMQ_VERSION}`,
    fetchMs,
  };
}
