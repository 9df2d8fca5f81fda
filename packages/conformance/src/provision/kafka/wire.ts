import { connectTcp, type SocketReader } from '../socket-reader.ts';

/** Big-endian encoder for the Kafka protocol's primitive types. */
export class Writer {
  #parts: Buffer[] = [];

  int8(value: number): this {
    return this.#push(1, (b) => b.writeInt8(value));
  }
  int16(value: number): this {
    return this.#push(2, (b) => b.writeInt16BE(value));
  }
  int32(value: number): this {
    return this.#push(4, (b) => b.writeInt32BE(value));
  }
  uint32(value: number): this {
    return this.#push(4, (b) => b.writeUInt32BE(value));
  }
  int64(value: bigint): this {
    return this.#push(8, (b) => b.writeBigInt64BE(value));
  }
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = Buffer.from(value, 'utf8');
    return this.int16(bytes.length).raw(bytes);
  }
  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).raw(value);
  }
  array<T>(items: readonly T[], each: (writer: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }
  /** Unsigned varint (flexible versions' lengths and tag counts). */
  uvarint(value: number): this {
    const out: number[] = [];
    let rest = value >>> 0;
    while (rest > 0x7f) {
      out.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    out.push(rest);
    return this.raw(Buffer.from(out));
  }
  /** Zigzag varint (record fields). */
  varint(value: number): this {
    return this.uvarint((value << 1) ^ (value >> 31));
  }
  compactString(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.uvarint(bytes.length + 1).raw(bytes);
  }
  raw(bytes: Uint8Array): this {
    this.#parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.#parts);
  }

  #push(size: number, write: (buffer: Buffer) => void): this {
    const buffer = Buffer.alloc(size);
    write(buffer);
    this.#parts.push(buffer);
    return this;
  }
}

/** Big-endian decoder; throws on a short buffer rather than returning garbage. */
export class Reader {
  readonly buffer: Buffer;
  offset = 0;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }

  int8(): number {
    return this.#take(1).readInt8();
  }
  int16(): number {
    return this.#take(2).readInt16BE();
  }
  int32(): number {
    return this.#take(4).readInt32BE();
  }
  int64(): bigint {
    return this.#take(8).readBigInt64BE();
  }
  string(): string | null {
    const length = this.int16();
    return length < 0 ? null : this.#take(length).toString('utf8');
  }
  bytes(): Buffer | null {
    const length = this.int32();
    return length < 0 ? null : this.#take(length);
  }
  array<T>(each: (reader: this) => T): T[] {
    const count = this.int32();
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(each(this));
    return items;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.#take(1)[0]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
      if (shift > 28) throw new Error('varint too long');
    }
  }
  varint(): number {
    const raw = this.uvarint();
    return (raw >>> 1) ^ -(raw & 1);
  }
  /** Zigzag varlong, returned as a number: the fields read here (timestamp deltas) fit easily. */
  varlong(): number {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = BigInt(this.#take(1)[0]!);
      value |= (byte & 0x7fn) << shift;
      if ((byte & 0x80n) === 0n) break;
    }
    return Number((value >> 1n) ^ -(value & 1n));
  }
  compactString(): string | null {
    const length = this.uvarint() - 1;
    return length < 0 ? null : this.#take(length).toString('utf8');
  }
  compactArray<T>(each: (reader: this) => T): T[] {
    const count = this.uvarint() - 1;
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(each(this));
    return items;
  }
  /** Calls `each(tag, reader-over-field)` for every tagged field. */
  taggedFields(each?: (tag: number, field: Reader) => void): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      const field = new Reader(this.#take(this.uvarint()));
      each?.(tag, field);
    }
  }
  take(length: number): Buffer {
    return this.#take(length);
  }

  #take(length: number): Buffer {
    if (this.offset + length > this.buffer.length) {
      throw new Error(
        `Kafka response truncated: wanted ${length} bytes at ${this.offset} of ${this.buffer.length}`,
      );
    }
    const out = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  Metadata: 3,
  FindCoordinator: 10,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
} as const;

const CLIENT_ID = 'switchyard-provision';

/** One broker connection; requests go one at a time, which is all a health check needs. */
export class KafkaConnection {
  readonly address: string;
  #reader: SocketReader;
  #correlation = 0;

  private constructor(address: string, reader: SocketReader) {
    this.address = address;
    this.#reader = reader;
  }

  static async open(host: string, port: number): Promise<KafkaConnection> {
    return new KafkaConnection(`${host}:${port}`, await connectTcp(host, port));
  }

  /**
   * Send a request and return the response body (after the v0 response header). `flexible`
   * selects request header v2; only ApiVersions is sent that way here, and its response
   * header stays v0 by the protocol's own rule.
   */
  async call(apiKey: number, version: number, body: Buffer, flexible = false): Promise<Reader> {
    const correlation = ++this.#correlation;
    const header = new Writer().int16(apiKey).int16(version).int32(correlation).string(CLIENT_ID);
    if (flexible) header.uvarint(0);
    const payload = Buffer.concat([header.build(), body]);
    this.#reader.write(new Writer().int32(payload.length).raw(payload).build());
    const size = (await this.#reader.readExact(4)).readInt32BE();
    const response = new Reader(await this.#reader.readExact(size));
    const got = response.int32();
    if (got !== correlation) throw new Error(`Kafka answered correlation id ${got}, expected ${correlation}`);
    return response;
  }

  close(): void {
    this.#reader.close();
  }
}

const ERROR_NAMES: Record<number, string> = {
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  35: 'UNSUPPORTED_VERSION',
  36: 'TOPIC_ALREADY_EXISTS',
  41: 'NOT_CONTROLLER',
};

export class KafkaError extends Error {
  readonly code: number;
  constructor(what: string, code: number) {
    super(`${what}: Kafka error ${code} ${ERROR_NAMES[code] ?? ''}`.trim());
    this.code = code;
  }
}
