// Entry point of the fauxqs process the provisioning launches: `node fauxqs-server.ts <port> [dataDir]`.
// fauxqs's own CLI and startFauxqs() listen on 0.0.0.0; tests must stay on loopback, so this
// builds the same app and binds 127.0.0.1. No FAUXQS_HOST: queue URLs then follow the request's
// Host header (http://127.0.0.1:<port>/000000000000/<name>), which resolves without DNS tricks.
// With a dataDir, state is kept in fauxqs's SQLite store so it survives a restart (the
// broker-restart case's private emulator).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildApp } from 'fauxqs';

const port = Number(process.argv[2] ?? 4566);
const dataDir = process.argv[3];

const app = buildApp({ logger: false, ...(dataDir ? { stores: await persistentStores(dataDir) } : {}) });
await app.listen({ host: '127.0.0.1', port });
console.log(`fauxqs listening on http://127.0.0.1:${port}${dataDir ? ` (state in ${dataDir})` : ''}`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * What startFauxqs({ dataDir }) wires, without its 0.0.0.0 listen. fauxqs exports only buildApp
 * and startFauxqs, so the stores come from its dist files (the version is pinned by the lockfile).
 */
async function persistentStores(dir: string) {
  const root = dirname(fileURLToPath(import.meta.resolve('fauxqs')));
  const load = (file: string) => import(pathToFileURL(join(root, file)).href);
  const [{ SqsStore }, { SnsStore }, { S3Store }, { PersistenceManager }] = await Promise.all([
    load('sqs/sqsStore.js'),
    load('sns/snsStore.js'),
    load('s3/s3Store.js'),
    load('persistence.js'),
  ]);
  const sqsStore = new SqsStore();
  const snsStore = new SnsStore();
  const s3Store = new S3Store();
  const persistence = new PersistenceManager(dir);
  // Load before wiring persistence in, as startFauxqs does: loading must not write back.
  persistence.load(sqsStore, snsStore, s3Store);
  sqsStore.persistence = persistence;
  snsStore.persistence = persistence;
  s3Store.persistence = persistence;
  for (const queue of sqsStore.allQueues()) queue.persistence = persistence;
  return { sqsStore, snsStore, s3Store };
}
