// AMQP 0-9-1 framing and the few field types the health check reads or writes.

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
const FRAME_END = 0xce;

export function frame(type: number, channel: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([FRAME_END])]);
}

export function method(classId: number, methodId: number, ...args: Buffer[]): Buffer {
  return Buffer.concat([u16(classId), u16(methodId), ...args]);
}

export const u8 = (value: number): Buffer => Buffer.from([value]);
export function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}
export function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}
export function u64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
}
export function shortstr(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 255) throw new Error('AMQP short string over 255 bytes');
  return Buffer.concat([u8(bytes.length), bytes]);
}
export function longstr(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([u32(bytes.length), bytes]);
}

export type FieldValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | FieldValue[]
  | { [key: string]: FieldValue };

/** Encodes strings, booleans and nested tables: all a client-properties table needs. */
export function table(entries: Record<string, string | boolean | Record<string, boolean>>): Buffer {
  const parts = Object.entries(entries).map(([key, value]) => {
    if (typeof value === 'string') return Buffer.concat([shortstr(key), Buffer.from('S'), longstr(value)]);
    if (typeof value === 'boolean')
      return Buffer.concat([shortstr(key), Buffer.from('t'), u8(value ? 1 : 0)]);
    return Buffer.concat([shortstr(key), Buffer.from('F'), table(value)]);
  });
  const body = Buffer.concat(parts);
  return Buffer.concat([u32(body.length), body]);
}

/** Sequential reader over one method's arguments. */
export class Args {
  readonly #buffer: Buffer;
  #offset = 0;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }

  u8(): number {
    return this.#buffer.readUInt8(this.#advance(1));
  }
  u16(): number {
    return this.#buffer.readUInt16BE(this.#advance(2));
  }
  u32(): number {
    return this.#buffer.readUInt32BE(this.#advance(4));
  }
  u64(): bigint {
    return this.#buffer.readBigUInt64BE(this.#advance(8));
  }
  shortstr(): string {
    const length = this.u8();
    return this.#bytes(length).toString('utf8');
  }
  longstr(): string {
    const length = this.u32();
    return this.#bytes(length).toString('utf8');
  }
  table(): Record<string, FieldValue> {
    const end = this.u32() + this.#offset;
    const out: Record<string, FieldValue> = {};
    while (this.#offset < end) {
      const key = this.shortstr();
      out[key] = this.#value();
    }
    return out;
  }

  #value(): FieldValue {
    const type = String.fromCharCode(this.u8());
    const b = this.#buffer;
    switch (type) {
      case 't':
        return this.u8() !== 0;
      case 'b':
        return b.readInt8(this.#advance(1));
      case 'B':
        return this.u8();
      case 's':
        return b.readInt16BE(this.#advance(2));
      case 'u':
        return this.u16();
      case 'I':
        return b.readInt32BE(this.#advance(4));
      case 'i':
        return this.u32();
      case 'l':
        return b.readBigInt64BE(this.#advance(8));
      case 'T':
        return this.u64();
      case 'f':
        return b.readFloatBE(this.#advance(4));
      case 'd':
        return b.readDoubleBE(this.#advance(8));
      case 'D': {
        const scale = this.u8();
        return b.readInt32BE(this.#advance(4)) / 10 ** scale;
      }
      case 'S':
        return this.longstr();
      case 'x':
        return this.#bytes(this.u32()).toString('hex');
      case 'F':
        return this.table();
      case 'A': {
        const end = this.u32() + this.#offset;
        const items: FieldValue[] = [];
        while (this.#offset < end) items.push(this.#value());
        return items;
      }
      case 'V':
        return null;
      default:
        throw new Error(`unknown AMQP field type '${type}'`);
    }
  }

  #bytes(length: number): Buffer {
    return this.#buffer.subarray(this.#advance(length), this.#offset);
  }

  #advance(length: number): number {
    const at = this.#offset;
    if (at + length > this.#buffer.length) throw new Error('AMQP frame truncated');
    this.#offset += length;
    return at;
  }
}
