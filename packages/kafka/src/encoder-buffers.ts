import { kafkajsModule } from './kafkajs-internals.ts';

interface EncoderInternals {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
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
    typeof prototype.writeUVarInt !== 'function'
  )
    return;
  const nextPowerOfTwo = Encoder.nextPowerOfTwo.bind(Encoder);
  // Its only callers are the constructor (whose allocation this empties) and ensureAvailable
  // (replaced below, which uses the original).
  Encoder.nextPowerOfTwo = () => 0;
  prototype.ensureAvailable = function (this: EncoderInternals, length: number): void {
    const needed = this.offset + length;
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(FIRST_SIZE, nextPowerOfTwo(needed)));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
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
