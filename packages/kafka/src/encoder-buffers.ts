import { kafkajsModule } from './kafkajs-internals.ts';

interface EncoderInternals {
  buf: Buffer;
  offset: number;
  /** Bytes before `buf[tailStart]`, by reference (see chunkLargeWrites). */
  chunks: Buffer[] | undefined;
  chunkBytes: number;
  /** Where in `buf` the bytes after the chunks begin. */
  tailStart: number;
  readonly buffer: Buffer;
  ensureAvailable(length: number): void;
  writeBufferInternal(buffer: Buffer): void;
  size(): number;
}

interface EncoderClass {
  new (): EncoderInternals;
  nextPowerOfTwo(value: number): number;
  prototype: Record<string, unknown>;
}

/** The first buffer an encoder writes into: kafkajs's own default size. */
const FIRST_SIZE = 512;

/** The constructor this fix expects, as kafkajs 2.2.4 (its last release) writes it. */
const CONSTRUCTOR_ALLOC = 'this.buf = Buffer.alloc(Encoder.nextPowerOfTwo(initialSize))';

let installed = false;

/**
 * kafkajs encodes every record, and each header of it separately, with a `new Encoder()` that
 * zero-fills a fresh 512-byte buffer (`Buffer.alloc`, about 2 µs here, not from Node's pool) and
 * grows by zero-filled copies; each varint goes through an array and a `Buffer.from`. That was a
 * quarter of the process's CPU when publishing 1 KiB events with their eight CloudEvents headers.
 *
 * Every byte an Encoder exposes (`buffer` is `buf.slice(0, offset)`) is one it wrote, so nothing
 * needs the zero fill: the constructor is left an empty buffer, the first write takes a pooled one
 * (`Buffer.allocUnsafe`, a slice of Node's 8 KiB pool for small sizes), and varints are written in
 * place. The bytes on the wire are the same (test/encoder-buffers.test.ts checks them against
 * kafkajs's own). Installed once per process, only on the constructor this expects; any other
 * kafkajs is left as it is.
 */
export function poolEncoderBuffers(): void {
  if (installed) return;
  installed = true;
  const Encoder = kafkajsModule('protocol/encoder.js') as EncoderClass | undefined;
  const prototype = Encoder?.prototype;
  if (
    typeof Encoder !== 'function' ||
    typeof Encoder.nextPowerOfTwo !== 'function' ||
    !Function.prototype.toString.call(Encoder).includes(CONSTRUCTOR_ALLOC) ||
    typeof prototype?.ensureAvailable !== 'function' ||
    typeof prototype.writeUVarInt !== 'function' ||
    // What chunkLargeWrites replaces, as kafkajs 2.2.4 has them.
    !['writeBufferInternal', 'writeBytes', 'writeEncoder', 'writeEncoderArray', 'size'].every(
      (name) => typeof prototype[name] === 'function',
    ) ||
    typeof Object.getOwnPropertyDescriptor(prototype, 'buffer')?.get !== 'function'
  )
    return;
  const nextPowerOfTwo = Encoder.nextPowerOfTwo.bind(Encoder);
  // Its only callers are the constructor (whose allocation this empties) and ensureAvailable
  // (replaced below, which uses the original).
  Encoder.nextPowerOfTwo = () => 0;
  prototype.ensureAvailable = function (this: EncoderInternals, length: number): void {
    const needed = this.offset + length;
    if (needed <= this.buf.length) return;
    // Only the tail moves: what is before it is already held as chunks.
    const tail = this.offset - this.tailStart;
    const grown = Buffer.allocUnsafe(Math.max(FIRST_SIZE, nextPowerOfTwo(tail + length)));
    this.buf.copy(grown, 0, this.tailStart, this.offset);
    this.buf = grown;
    this.offset = tail;
    this.tailStart = 0;
  };
  chunkLargeWrites(prototype);
  prototype.writeUVarInt = function (this: EncoderInternals, value: number): EncoderInternals {
    // LEB128, as kafkajs writes it: seven bits a byte, the high bit set on all but the last.
    this.ensureAvailable(5);
    const buf = this.buf;
    let offset = this.offset;
    let rest = value;
    while ((rest & 0xffffff80) !== 0) {
      buf[offset++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    buf[offset++] = rest & 0x7f;
    this.offset = offset;
    return this;
  };
}

/** Below this many bytes an encoder's output is copied, not referenced: a chunk costs more than that. */
const CHUNK_MIN = 256;

/**
 * kafkajs builds a produce request in layers, each a new Encoder that copies the one below it in:
 * each record into its batch (growing it by doubling), the batch into a framed batch, that into a
 * partition, the partitions into a topic, the topics into the request, the request into its size
 * frame. A 100-record produce of 1 KiB events allocated about 1.6 MiB of buffers and copied its
 * bytes about eight times; that churn alone set off V8's full collections for external memory
 * every few thousand events.
 *
 * Here an Encoder written into another (writeEncoder, writeEncoderArray, and writeBytes of a buffer
 * an Encoder made) is appended by reference, as a list of chunks; its bytes are copied once, when
 * something reads `.buffer` (the batch's CRC, the framed batch, the socket write). Encoders never
 * write over bytes they already wrote, so a referenced range stays as it was. A Buffer from anywhere
 * else (a record's key or value, which its owner may change) is still copied at once.
 */
function chunkLargeWrites(prototype: Record<string, unknown>): void {
  const copyIn = prototype.writeBufferInternal as (this: EncoderInternals, buffer: Buffer) => void;
  const writeBytes = prototype.writeBytes as (this: EncoderInternals, value: unknown) => EncoderInternals;
  /** Memory an Encoder made and never writes over again: referenced, not copied. */
  const owned = new WeakSet<ArrayBufferLike>();
  const append = (into: EncoderInternals, pieces: readonly Buffer[], bytes: number) => {
    into.chunks ??= [];
    const chunks = into.chunks;
    if (into.offset > into.tailStart) {
      chunks.push(into.buf.subarray(into.tailStart, into.offset));
      into.chunkBytes += into.offset - into.tailStart;
    }
    for (const piece of pieces) chunks.push(piece);
    into.chunkBytes += bytes;
    // Later writes go on in the same buffer, after what is now a chunk.
    into.tailStart = into.offset;
  };
  const appendEncoder = (into: EncoderInternals, from: EncoderInternals) => {
    const size = from.size();
    if (size < CHUNK_MIN) {
      copyIn.call(into, from.buffer);
      return;
    }
    const tail = from.buf.subarray(from.tailStart, from.offset);
    append(into, from.chunks === undefined ? [tail] : [...from.chunks, tail], size);
  };

  prototype.chunks = undefined;
  prototype.chunkBytes = 0;
  prototype.tailStart = 0;
  prototype.size = function (this: EncoderInternals): number {
    return this.chunkBytes + this.offset - this.tailStart;
  };
  Object.defineProperty(prototype, 'buffer', {
    configurable: true,
    get(this: EncoderInternals): Buffer {
      if (this.chunks !== undefined) {
        // Once: the encoder then holds its bytes in one buffer, as an unchunked one does.
        const size = this.size();
        // Small ones from Node's pool, whose memory other code shares: never referenced, only copied.
        const whole = Buffer.allocUnsafe(size);
        let at = 0;
        for (const chunk of this.chunks) at += chunk.copy(whole, at);
        this.buf.copy(whole, at, this.tailStart, this.offset);
        if (whole.byteOffset === 0 && whole.buffer.byteLength === size) owned.add(whole.buffer);
        this.buf = whole;
        this.offset = size;
        this.tailStart = 0;
        this.chunks = undefined;
        this.chunkBytes = 0;
      }
      return this.buf.subarray(this.tailStart, this.offset);
    },
  });
  prototype.writeBufferInternal = function (this: EncoderInternals, buffer: Buffer): void {
    if (buffer.length >= CHUNK_MIN && owned.has(buffer.buffer)) append(this, [buffer], buffer.length);
    else copyIn.call(this, buffer);
  };
  prototype.writeEncoder = function (this: EncoderInternals, value: EncoderInternals): EncoderInternals {
    if (value == null || !Buffer.isBuffer(value.buf))
      throw new Error('value should be an instance of Encoder');
    appendEncoder(this, value);
    return this;
  };
  prototype.writeEncoderArray = function (
    this: EncoderInternals,
    value: readonly EncoderInternals[],
  ): EncoderInternals {
    if (!Array.isArray(value) || value.some((v) => v == null || !Buffer.isBuffer(v.buf)))
      throw new Error('all values should be an instance of Encoder[]');
    for (const encoder of value) appendEncoder(this, encoder);
    return this;
  };
  prototype.writeBytes = function (this: EncoderInternals, value: unknown): EncoderInternals {
    // kafkajs reserves room for the bytes first: not needed for bytes that are only referenced.
    if (Buffer.isBuffer(value) && value.length >= CHUNK_MIN && owned.has(value.buffer)) {
      (this as unknown as { writeInt32(n: number): void }).writeInt32(value.length);
      append(this, [value], value.length);
      return this;
    }
    return writeBytes.call(this, value);
  };
}
