import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bus } from './bus.ts';
import { assertAttribute } from './cloudevent.ts';
import type { ConnectOptions } from './connect-options.ts';
import { parseBrokerUrl, TRANSPORT_PACKAGES } from './connect-url.ts';
import { InvalidEventError, InvalidUrlError, TransportNotInstalledError } from './errors.ts';
import { leveledLogger } from './logger.ts';
import { MemoryTransport } from './memory/transport.ts';
import type { Transport, TransportFactory } from './transport.ts';

/** The key under which `connect()` options carry a transport's own settings. */
const OPTION_KEYS: Readonly<Record<string, string>> = {
  kafka: 'kafka',
  amqp: 'amqp',
  amqps: 'amqp',
  sqs: 'sqs',
  nats: 'nats',
};

/** Open a bus on the broker the URL names; the transport package is loaded on demand. */
export async function connect(options: ConnectOptions): Promise<Bus> {
  if (typeof options !== 'object' || options === null) {
    // connect('kafka://…') is the natural first guess; say what is expected, without the string
    // itself (it may hold credentials).
    throw new InvalidUrlError(
      `connect() takes an options object, e.g. connect({ url: 'kafka://127.0.0.1:9092', source: 'billing-service' }), not a ${options === null ? 'null' : typeof options}`,
    );
  }
  const url = parseBrokerUrl(options.url);
  assertSource(options.source);
  const logLevel = options.logLevel ?? 'warn';
  const logger = leveledLogger(options.logger, logLevel);
  const scheme = url.protocol.slice(0, -1);
  let transport: Transport;
  if (scheme === 'memory') {
    transport = new MemoryTransport(url.hostname || 'default', (options as { memory?: object }).memory);
  } else {
    const create = await loadFactory(scheme);
    const key = OPTION_KEYS[scheme]!;
    transport = await create({
      url,
      href: options.url,
      options: (options as unknown as Record<string, unknown>)[key],
      logger,
      logLevel,
    });
  }
  return new Bus(transport, { source: options.source, logger });
}

/**
 * Every event the bus publishes carries `source`: one missing (plain JavaScript, a config key
 * misspelt) fails here, before a connection is opened, rather than at the first publish.
 */
function assertSource(source: unknown): void {
  if (typeof source !== 'string' || source === '') {
    throw new InvalidEventError(
      "connect() needs `source`: the CloudEvents source of what this bus publishes, a non-empty URI-reference such as 'billing-service'",
    );
  }
  assertAttribute('source', source);
}

async function loadFactory(scheme: string): Promise<TransportFactory> {
  const packageName = TRANSPORT_PACKAGES[scheme]!;
  let mod: { create?: TransportFactory };
  try {
    mod = await import(packageName);
  } catch (first) {
    if (!isNotFound(first)) throw first;
    // Under strict layouts (pnpm) core cannot see its siblings; the application can.
    try {
      const resolved = createRequire(join(process.cwd(), 'index.js')).resolve(packageName);
      mod = await import(pathToFileURL(resolved).href);
    } catch (second) {
      throw new TransportNotInstalledError(scheme, packageName, isNotFound(second) ? undefined : second);
    }
  }
  if (typeof mod.create !== 'function') {
    throw new TransportNotInstalledError(
      scheme,
      packageName,
      new Error(`${packageName} does not export create()`),
    );
  }
  return mod.create;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return (
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /Cannot find (module|package)|Failed to (load|resolve)/i.test(String((error as Error)?.message))
  );
}
