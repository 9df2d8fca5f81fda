import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timerMs, wholeNumber } from '@switchyard/core/transport';
import type { OpsBus, Watch } from './ops-bus.ts';
import { PAGE } from './page.ts';

export interface DashboardOptions {
  /** A bus from `connect()`: the dashboard reads `bus.inspect()` and `bus.deadLetters()`. It never closes it. */
  readonly bus: OpsBus;
  /** The (topic, group) pairs to show. */
  readonly watch: readonly Watch[];
  /** Port to listen on. Default 0: any free port (read `url`). */
  readonly port?: number;
  /** Interface to listen on. Default `127.0.0.1`: the page can redrive dead letters, so it is not exposed by default. */
  readonly host?: string;
  /** How often the page's figures are refreshed, ms. Default 2 000. */
  readonly refreshMs?: number;
  /** Dead letters listed per group in the DLQ view. Default 50. */
  readonly deadLetterLimit?: number;
}

export interface Dashboard {
  /** Where the page is served, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Stop serving: ends the live streams and closes the listener. The bus stays open. */
  close(): Promise<void>;
}

/** One row of the page: the inspection of a watched pair, or why it could not be read. */
export type Row = { readonly topic: string; readonly group: string } & (
  | { readonly inspection: unknown }
  | { readonly error: string }
);

/** Serve the live page for `options.watch` on `options.bus`. Resolves once listening. */
export async function dashboard(options: DashboardOptions): Promise<Dashboard> {
  // A NaN, 0 or Infinity refresh read every watched group every millisecond (a timer runs those
  // after 1 ms).
  const refreshMs = timerMs('refreshMs', options.refreshMs ?? 2_000);
  const limit = wholeNumber('deadLetterLimit', options.deadLetterLimit ?? 50);
  const watched = (topic: string | null, group: string | null) =>
    options.watch.find((w) => w.topic === topic && w.group === group);
  const streams = new Set<ServerResponse>();

  const rows = (): Promise<Row[]> =>
    Promise.all(
      options.watch.map(async ({ topic, group }): Promise<Row> => {
        try {
          return { topic, group, inspection: await options.bus.inspect(topic, { group }) };
        } catch (error) {
          return { topic, group, error: errorText(error) };
        }
      }),
    );

  const loopback = isLoopback(options.host ?? '127.0.0.1');
  const routes = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 is the same
    // origin as this server to the browser (Host and Origin both evil.example), so it could read
    // the dead letters and redrive them. Listening on loopback, only loopback names are served.
    if (loopback && !isLoopback(hostName(req.headers.host))) {
      return json(res, 403, { error: 'open the dashboard as http://127.0.0.1 or http://localhost' });
    }
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /') return send(res, 200, PAGE, 'text/html; charset=utf-8');
    if (route === 'GET /api/groups') return json(res, 200, await rows());
    if (route === 'GET /api/stream') return stream(res);
    const pair = watched(url.searchParams.get('topic'), url.searchParams.get('group'));
    if (url.pathname.startsWith('/api/dlq') && !pair)
      return json(res, 404, { error: 'not a watched topic and group' });
    if (route === 'GET /api/dlq' && pair) {
      const view = options.bus.deadLetters(pair.topic, { group: pair.group });
      const [groups, events] = await Promise.all([view.groups(), view.inspect({ limit })]);
      return json(res, 200, { groups, events });
    }
    if (route === 'POST /api/dlq/redrive' && pair) {
      // A page from another origin must not redrive: only a same-origin fetch with a JSON body does.
      if (!sameOrigin(req) || !req.headers['content-type']?.startsWith('application/json')) {
        return json(res, 403, { error: 'redrive only from the dashboard page' });
      }
      const body = JSON.parse((await readBody(req)) || '{}') as { dryRun?: unknown };
      const view = options.bus.deadLetters(pair.topic, { group: pair.group });
      return json(res, 200, await view.redrive({ dryRun: body.dryRun === true }));
    }
    return json(res, 404, { error: 'not found' });
  };

  const stream = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    streams.add(res);
    res.on('close', () => streams.delete(res));
    void push(res);
  };
  const push = async (res: ServerResponse): Promise<void> => {
    const data = JSON.stringify(await rows());
    if (!res.writableEnded) res.write(`data: ${data}\n\n`);
  };
  // One reading per tick for every open page, not one per page.
  const timer = setInterval(async () => {
    if (streams.size === 0) return;
    const data = JSON.stringify(await rows());
    for (const res of streams) if (!res.writableEnded) res.write(`data: ${data}\n\n`);
  }, refreshMs);
  timer.unref();

  const server = createServer((req, res) => {
    routes(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: errorText(error) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}/`,
    close: () => {
      clearInterval(timer);
      for (const res of streams) res.end();
      streams.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The name in a Host header, without its port (`[::1]:80` → `[::1]`). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  return header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.replace(/:\d*$/, '');
}

function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 65_536) req.destroy(new Error('request body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json');
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

// Error messages of the SDK never carry credentials; a name helps more than a stack here.
function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
