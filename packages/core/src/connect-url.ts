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

const SECRET_PARAM = /secret|password|token|key/i;

/**
 * A URL fit for logs: user, password and secret-looking parameters replaced. Redacting twice
 * gives the same text: a string that is not a WHATWG URL but has `scheme://` (a host list, a URL
 * cut out of a message with a character too many) is masked by pattern rather than dropped.
 */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    if (parsed.username) parsed.username = '***';
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAM.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return redactByPattern(String(url));
  }
}

function redactByPattern(text: string): string {
  // Without `scheme://` there is no telling where a secret would be.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return '<invalid url>';
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***:***@')
    .replace(/([?&][^=&#]*=)([^&#]*)/g, (match, name: string) =>
      SECRET_PARAM.test(name) ? `${name}***` : match,
    );
}
