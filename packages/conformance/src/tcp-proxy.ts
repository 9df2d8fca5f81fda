import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** A TCP proxy on 127.0.0.1 the suite can cut, to test reconnects without touching the broker. */
export class TcpProxy {
  readonly host = '127.0.0.1';
  port = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #refusing = false;
  readonly upstream: { host: string; port: number };

  constructor(upstream: { host: string; port: number }) {
    this.upstream = upstream;
    this.#server = createServer((client) => {
      if (this.#refusing) {
        client.destroy();
        return;
      }
      const server = tcpConnect(upstream.port, upstream.host);
      for (const socket of [client, server]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          server.destroy();
        });
      }
      client.pipe(server).pipe(client);
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, this.host, () => resolve());
    });
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    return this;
  }

  /** Drop every connection; unless `refuse` is false, refuse new ones until `heal()`. */
  cut(refuse = true): void {
    this.#refusing = refuse;
    for (const socket of this.#sockets) socket.destroy();
  }

  heal(): void {
    this.#refusing = false;
  }

  get connections(): number {
    return this.#sockets.size / 2;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
