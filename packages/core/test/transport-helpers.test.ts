// The helpers core offers transports: copyBytes, rememberedNames and encodedSizeBound.
import { describe, expect, it, vi } from 'vitest';
import { Bus } from '../src/bus.ts';
import { encode, encodeChecked } from '../src/codec.ts';
import { MessageTooLargeError } from '../src/errors.ts';
import { createEvent } from '../src/event.ts';
import { MemoryTransport } from '../src/memory/transport.ts';
import { copyBytes, encodedSize, encodedSizeBound, rememberedNames } from '../src/transport-api.ts';
import { uniqueName } from './helpers.ts';

describe('copyBytes', () => {
  it('copies: changing the source afterwards does not change the copy', () => {
    const response = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const copy = copyBytes(response.subarray(2, 5));
    response.fill(0);
    expect([...copy]).toEqual([1, 2, 3]);
  });

  it('gives a plain Uint8Array (deep-equal to one), possibly a view, and an empty one for no bytes', () => {
    const copy = copyBytes(new Uint8Array([1, 2, 3]));
    expect(copy.constructor).toBe(Uint8Array);
    expect(copy).toEqual(new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength)).toEqual(copy);
    expect(copyBytes(new Uint8Array(0)).byteLength).toBe(0);
  });
});

describe('rememberedNames', () => {
  it('derives each name once, null answers included', () => {
    const derive = vi.fn((name: string) => (name.startsWith('ce_') ? name.slice(3) : null));
    const attributeOf = rememberedNames(derive);
    expect([attributeOf('ce_id'), attributeOf('ce_id'), attributeOf('x'), attributeOf('x')]).toEqual([
      'id',
      'id',
      null,
      null,
    ]);
    expect(derive).toHaveBeenCalledTimes(2);
  });

  it('forgets everything past max names, keeps no name over 64 characters, and does not remember a throw', () => {
    const derive = vi.fn((name: string) => {
      if (name === 'bad') throw new Error('not a header name');
      return name.length;
    });
    const lengthOf = rememberedNames(derive, 2);
    lengthOf('a');
    lengthOf('b');
    lengthOf('c'); // third distinct name: the first two are forgotten
    lengthOf('a');
    expect(derive).toHaveBeenCalledTimes(4);
    const long = 'n'.repeat(65);
    expect(lengthOf(long)).toBe(65);
    expect(lengthOf(long)).toBe(65);
    expect(derive).toHaveBeenCalledTimes(6);
    expect(() => lengthOf('bad')).toThrow('not a header name');
    expect(() => lengthOf('bad')).toThrow('not a header name');
    expect(derive).toHaveBeenCalledTimes(8);
  });
});

describe('encodedSizeBound', () => {
  // 1-, 2-, 3- and 4-byte UTF-8 characters, in an extension value and in JSON data.
  const mixed = 'aé€𝄞';
  const event = (data: unknown) =>
    createEvent({ type: 't', data, extensions: { note: mixed.repeat(3) } }, 'test');

  it('is never below encodedSize, and reads no text of a JSON body not yet encoded', () => {
    const encoding = vi.spyOn(TextEncoder.prototype, 'encode');
    const sizing = vi.spyOn(Buffer, 'byteLength');
    const messages = [encodeChecked(event({ s: '€𝄞'.repeat(400) })), encodeChecked(event({ n: 1 }))];
    const bounds = messages.map(encodedSizeBound);
    expect(encoding).not.toHaveBeenCalled();
    expect(sizing).not.toHaveBeenCalled();
    encoding.mockRestore();
    sizing.mockRestore();
    for (const [i, message] of messages.entries()) {
      expect(bounds[i]).toBeGreaterThanOrEqual(encodedSize(message));
    }
    // Binary data counts exactly; only its headers are bounded.
    const binary = encode(createEvent({ type: 't', data: new Uint8Array(300) }, 'test'));
    expect(encodedSizeBound(binary)).toBeGreaterThanOrEqual(encodedSize(binary));
    expect(encodedSizeBound(binary) - 300).toBe(3 * (encodedSize(binary) - 300));
  });

  it('leaves the bus refusing exactly what is over the limit, where the bound alone would refuse more', async () => {
    const probe = encodeChecked(event({ s: mixed.repeat(20) }));
    const exact = encodedSize(probe);
    expect(encodedSizeBound(probe)).toBeGreaterThan(exact);
    const publishAt = async (limit: number) => {
      const bus = new Bus(new MemoryTransport(uniqueName('size'), { maxMessageBytes: limit }), {
        source: 'test',
      });
      try {
        // Same size as the probe: the id, time and source are as long.
        await bus.publish('sized', {
          type: 't',
          data: { s: mixed.repeat(20) },
          extensions: { note: mixed.repeat(3) },
        });
      } finally {
        await bus.close();
      }
    };
    await expect(publishAt(exact)).resolves.toBeUndefined();
    const refused = await publishAt(exact - 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MessageTooLargeError);
    expect((refused as MessageTooLargeError).size).toBe(exact);
  });
});
