import { createConnection, type Socket } from 'node:net';

/** Open a TCP connection; every later read fails if the peer stays silent for `idleMs`. */
export function connectTcp(host: string, port: number, idleMs = 10_000): Promise<SocketReader> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    socket.setNoDelay(true);
    socket.setTimeout(idleMs, () =>
      socket.destroy(new Error(`${host}:${port} did not answer within ${idleMs} ms`)),
    );
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new SocketReader(socket));
    });
  });
}

/** Pull-style reads over a socket, which the wire protocols here are easiest to write against. */
export class SocketReader {
  readonly socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  #failure: Error | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#notify();
    });
    socket.on('error', (error) => {
      this.#failure ??= error;
      this.#notify();
    });
    socket.on('close', () => {
      this.#failure ??= new Error('connection closed by the server');
      this.#notify();
    });
  }

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  async readExact(length: number): Promise<Buffer> {
    while (this.#buffer.length < length) await this.#more();
    const out = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return out;
  }

  /** One CRLF-terminated line, without the CRLF. */
  async readLine(): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf('\r\n');
      if (end >= 0) {
        const line = this.#buffer.subarray(0, end).toString('utf8');
        this.#buffer = this.#buffer.subarray(end + 2);
        return line;
      }
      await this.#more();
    }
  }

  close(): void {
    this.socket.destroy();
  }

  #more(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
