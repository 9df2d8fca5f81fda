import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** postgres://root@127.0.0.1:<port>/postgres (trust auth). */
  readonly url: string;
  readonly version: string;
  /** pg_ctl restart -m fast: every connection is cut, data stays. */
  restart(): Promise<void>;
  /** Stop it and delete its data directory. */
  stop(): Promise<void>;
}

/** Debian's PostgreSQL binaries (postgresql-NN packages), newest first. */
function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(base, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (!found) throw new Error(`no PostgreSQL server binaries under ${base} (install postgresql-15)`);
  return found;
}

/**
 * A PostgreSQL cluster of one test's own on a free 127.0.0.1 port (initdb + pg_ctl from the
 * machine's packages), so a restart case never touches the shared server. As root, the server
 * runs as the `postgres` user (PostgreSQL refuses to run as root).
 */
export async function launchPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sy-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const exec = async (command: string, args: string[]) => {
    const file = join(bin, command);
    return asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  };
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  await exec('initdb', ['-D', data, '-U', 'root', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`;
  const pgCtl = (action: string, extra: string[] = []) =>
    exec('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', ...extra, action]);
  await pgCtl('start');
  const { stdout } = await exec('postgres', ['--version']);
  return {
    url: `postgres://root@127.0.0.1:${port}/postgres`,
    version: stdout.trim(),
    restart: async () => {
      await pgCtl('restart', ['-m', 'fast']);
    },
    stop: async () => {
      await pgCtl('stop', ['-m', 'immediate']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
