import { randomUUID } from 'node:crypto';
import { connectTcp, type SocketReader } from '../socket-reader.ts';

export interface ServerInfo {
  readonly version?: string;
  readonly jetstream?: boolean;
  readonly tls_required?: boolean;
  readonly auth_required?: boolean;
}

export interface Reply {
  readonly headers: string;
  readonly data: Buffer;
}

/** A minimal NATS client: one inbox, one request at a time, enough for a health check. */
export class NatsConnection {
  readonly info: ServerInfo;
  #reader: SocketReader;
  #inbox = `_INBOX.${randomUUID().replaceAll('-', '')}`;
  #next = 0;

  private constructor(reader: SocketReader, info: ServerInfo) {
    this.#reader = reader;
    this.info = info;
  }

  static async open(url: string): Promise<NatsConnection> {
    const parsed = new URL(url);
    const reader = await connectTcp(parsed.hostname, Number(parsed.port || 4222));
    try {
      const line = await reader.readLine();
      if (!line.startsWith('INFO '))
        throw new Error(`expected INFO from nats-server, got "${line.slice(0, 40)}"`);
      const info = JSON.parse(line.slice(5)) as ServerInfo;
      if (info.tls_required)
        throw new Error('the server requires TLS, which the provisioning probe does not speak');
      const user = decodeURIComponent(parsed.username);
      const pass = decodeURIComponent(parsed.password);
      const auth = pass ? { user, pass } : user ? { auth_token: user } : {};
      const options = {
        verbose: false,
        pedantic: false,
        lang: 'switchyard-provision',
        version: '1',
        protocol: 1,
      };
      // headers + no_responders: a request nobody serves (JetStream off) fails at once with a 503.
      const connect = { ...options, headers: true, no_responders: true, ...auth };
      reader.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
      const connection = new NatsConnection(reader, info);
      await connection.#until((control) => control === 'PONG');
      reader.write(`SUB ${connection.#inbox}.* 1\r\n`);
      return connection;
    } catch (error) {
      reader.close();
      throw error;
    }
  }

  /** Publish with a reply subject and wait for the one answer. */
  async request(subject: string, payload: string | Buffer): Promise<Reply> {
    const reply = `${this.#inbox}.${++this.#next}`;
    const bytes = Buffer.from(payload);
    this.#reader.write(
      Buffer.concat([Buffer.from(`PUB ${subject} ${reply} ${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]),
    );
    for (;;) {
      const line = await this.#until((control) => control.startsWith('MSG ') || control.startsWith('HMSG '));
      const parts = line.split(' ');
      const withHeaders = parts[0] === 'HMSG';
      const total = Number(parts.at(-1));
      const headerBytes = withHeaders ? Number(parts.at(-2)) : 0;
      const body = await this.#reader.readExact(total + 2);
      if (parts[1] !== reply) continue; // a late answer to an earlier request
      return {
        headers: body.subarray(0, headerBytes).toString('utf8'),
        data: Buffer.from(body.subarray(headerBytes, total)),
      };
    }
  }

  close(): void {
    this.#reader.close();
  }

  /** Read control lines, answering server PINGs, until `wanted` matches; -ERR fails. */
  async #until(wanted: (line: string) => boolean): Promise<string> {
    for (;;) {
      const line = await this.#reader.readLine();
      if (wanted(line)) return line;
      if (line === 'PING') this.#reader.write('PONG\r\n');
      else if (line.startsWith('-ERR')) throw new Error(`nats-server: ${line.slice(5)}`);
    }
  }
}
