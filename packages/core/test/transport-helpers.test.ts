// The helpers core offers transports: copyBytes and rememberedNames.
import { describe, expect, it, vi } from 'vitest';
import { copyBytes, rememberedNames } from '../src/transport-api.ts';

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
