import { describe, expect, it } from 'vitest';
import { connect } from '../src/connect.ts';
import { parseBrokerUrl, redactUrl, TRANSPORT_PACKAGES } from '../src/connect-url.ts';
import { InvalidEventError, InvalidUrlError, TransportNotInstalledError } from '../src/errors.ts';
import { uniqueName } from './helpers.ts';

const SECRET = 's3cr3t-Pa55';

describe('connect()', () => {
  it('rejects an unknown scheme with InvalidUrlError, without echoing credentials', async () => {
    const error = await connect({ url: `redis://admin:${SECRET}@cache.internal:6379`, source: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidUrlError);
    expect((error as Error).message).toContain("'redis'");
    expect(String(error)).not.toContain(SECRET);
    expect(String(error)).not.toContain('admin');
  });

  it('rejects a string that is not a URL without echoing it', async () => {
    const error = await connect({ url: `kafka//admin:${SECRET}@host`, source: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidUrlError);
    expect(String(error)).not.toContain(SECRET);
  });

  it('says it takes an options object when given the URL string itself, without echoing it', async () => {
    const url = `amqp://admin:${SECRET}@rabbit:5672`;
    const error = await connect(url as unknown as Parameters<typeof connect>[0]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidUrlError);
    expect((error as Error).message).toContain('connect({ url:');
    expect(String(error)).not.toContain(SECRET);
  });

  it('names the package to install when the transport package cannot be resolved', async () => {
    // A scheme mapped to a package that exists nowhere: the same path as `kafka://` without @switchyard/kafka.
    const packages = TRANSPORT_PACKAGES as Record<string, string>;
    packages.nosuchbroker = '@switchyard/no-such-transport';
    try {
      const error = await connect({ url: `nosuchbroker://user:${SECRET}@host:1`, source: 'x' }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TransportNotInstalledError);
      expect((error as TransportNotInstalledError).packageName).toBe('@switchyard/no-such-transport');
      expect((error as Error).message).toMatch(
        /(pnpm add|npm install|yarn add) @switchyard\/no-such-transport/,
      );
      // The package manager running the process is named; without one, each of the common ones.
      const agent = process.env.npm_config_user_agent;
      try {
        process.env.npm_config_user_agent = 'npm/10.9.2 node/v24.1.0 linux x64 workspaces/false';
        const npm = await connect({ url: 'nosuchbroker://host:1', source: 'x' }).catch((e: unknown) => e);
        expect((npm as Error).message).toContain('`npm install @switchyard/no-such-transport`');
        expect((npm as Error).message).not.toContain('pnpm');
        process.env.npm_config_user_agent = 'yarn/4.5.0 npm/? node/v24.1.0 linux x64';
        const yarn = await connect({ url: 'nosuchbroker://host:1', source: 'x' }).catch((e: unknown) => e);
        expect((yarn as Error).message).toContain('`yarn add @switchyard/no-such-transport`');
        delete process.env.npm_config_user_agent;
        const none = await connect({ url: 'nosuchbroker://host:1', source: 'x' }).catch((e: unknown) => e);
        for (const command of ['npm install', 'pnpm add', 'yarn add']) {
          expect((none as Error).message).toContain(`${command} @switchyard/no-such-transport`);
        }
      } finally {
        if (agent === undefined) delete process.env.npm_config_user_agent;
        else process.env.npm_config_user_agent = agent;
      }
      expect(String(error)).not.toContain(SECRET);
      // "Not found" is the expected case, not a cause worth reporting.
      expect((error as Error).cause).toBeUndefined();
    } finally {
      delete packages.nosuchbroker;
    }
  });

  it('refuses a missing or unusable source before connecting (plain JavaScript has no types to catch it)', async () => {
    for (const source of [undefined, '', 42, 'bad\nsource']) {
      const error = await connect({ url: 'kafka://127.0.0.1:1', source } as never).catch((e: unknown) => e);
      // kafka:// on port 1 would fail to connect (or the package to load): the check comes first.
      expect(error, String(source)).toBeInstanceOf(InvalidEventError);
      expect((error as Error).message).toMatch(/source/);
    }
  });

  it('opens memory:// buses that share a broker by name', async () => {
    const name = uniqueName('connect');
    const a = await connect({ url: `memory://${name}`, source: 'a' });
    const b = await connect({ url: `memory://${name}`, source: 'b' });
    const other = await connect({ url: `memory://${uniqueName('connect')}`, source: 'c' });
    expect(a.transport.name).toBe('memory');
    for (const bus of [a, b, other]) await bus.provision('t', { groups: ['g'] });
    await a.publish('t', { type: 'x', data: 1 });
    const { firstValueFrom, timeout, catchError, of } = await import('rxjs');
    const got = await firstValueFrom(b.consume('t', { group: 'g' }));
    expect(got.event?.source).toBe('a');
    await got.ack();
    const none = await firstValueFrom(
      other.consume('t', { group: 'g' }).pipe(
        timeout(50),
        catchError(() => of('nothing')),
      ),
    );
    expect(none).toBe('nothing');
    await Promise.all([a.close(), b.close(), other.close()]);
  });

  it('redactUrl hides user, password and secret-looking query parameters', () => {
    const redacted = redactUrl(
      `amqp://guest:${SECRET}@host:5672/%2F?heartbeat=5&token=${SECRET}&aws_secret=${SECRET}`,
    );
    expect(redacted).not.toContain(SECRET);
    expect(redacted).not.toContain('guest');
    expect(redacted).toContain('heartbeat=5');
    expect(redactUrl('not a url')).toBe('<invalid url>');
  });

  it('redactUrl of a redacted URL is the same URL, even with a character too many', () => {
    for (const url of [
      `amqp://guest:${SECRET}@127.0.0.1:5672`,
      `amqp://guest:${SECRET}@127.0.0.1:5672/vhost?token=${SECRET}`,
      `kafka://user:${SECRET}@a:9092,b:9092?password=${SECRET}&ssl=true`,
    ]) {
      const once = redactUrl(url);
      expect(once).not.toContain(SECRET);
      expect(redactUrl(once)).toBe(once);
    }
    // A URL taken from a message with the colon after it: still the host, never '<invalid url>'.
    expect(redactUrl('amqp://***:***@127.0.0.1:5672:')).toBe('amqp://***:***@127.0.0.1:5672:');
    expect(redactUrl(`amqp://guest:${SECRET}@127.0.0.1:5672:`)).toBe('amqp://***:***@127.0.0.1:5672:');
  });

  it('accepts a host list, as API.md writes kafka://127.0.0.1:9092,127.0.0.1:9093', () => {
    const url = parseBrokerUrl('kafka://user:pw@127.0.0.1:9092,127.0.0.1:9093/?ssl=true');
    expect(url.protocol).toBe('kafka:');
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.searchParams.get('ssl')).toBe('true');
    expect(() => parseBrokerUrl('kafka://a:notaport,b:1')).toThrow(InvalidUrlError);
  });
});
