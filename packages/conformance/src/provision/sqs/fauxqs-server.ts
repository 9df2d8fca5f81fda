// Entry point of the fauxqs process the provisioning launches: `node fauxqs-server.ts <port>`.
// fauxqs's own CLI and startFauxqs() listen on 0.0.0.0; tests must stay on loopback, so this
// builds the same app and binds 127.0.0.1. No FAUXQS_HOST: queue URLs then follow the request's
// Host header (http://127.0.0.1:<port>/000000000000/<name>), which resolves without DNS tricks.
import { buildApp } from 'fauxqs';

const port = Number(process.argv[2] ?? 4566);
const app = buildApp({ logger: false });
await app.listen({ host: '127.0.0.1', port });
console.log(`fauxqs listening on http://127.0.0.1:${port}`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
