import { InvalidUrlError } from './errors.ts';

/** URL scheme → the package that implements it. memory:// is built in. */
export const TRANSPORT_PACKAGES: Readonly<Record<string, string>> = {
  kafka: '@switchyard/kafka',
  amqp: '@switchyard/rabbitmq',
  amqps: '@switchyard/rabbitmq',
  sqs: '@switchyard/sqs',
  nats: '@switchyard/nats',
};

/** Parse a broker URL; the error never repeats the URL, which may hold credentials. */
export function parseBrokerUrl(url: string): URL {
  let parsed: URL;
  try {
    // A host list (`kafka://a:9092,b:9092`) is not a WHATWG URL: check the rest with the first host;
    // the transport reads the whole list from the original string (`href`).
    parsed = new URL(url.replace(/^([a-z]+:\/\/(?:[^@/?#]*@)?)([^,/?#]*),[^/?#]*/i, '$1$2'));
  } catch {
    throw new InvalidUrlError('Broker URL is not a valid URL (expected e.g. memory://, kafka://host:9092)');
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'memory' && !(scheme in TRANSPORT_PACKAGES)) {
    throw new InvalidUrlError(
      `Unknown broker URL scheme '${scheme}': use one of memory, ${Object.keys(TRANSPORT_PACKAGES).join(', ')}`,
    );
  }
  return parsed;
}

/** A URL fit for logs: user and password replaced. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    if (parsed.username) parsed.username = '***';
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/secret|password|token|key/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
