import { describe, expect, it } from 'vitest';
import { KeyArena } from '../src/idempotency/key-arena.ts';
import { hashKey, KeyIndex } from '../src/idempotency/key-index.ts';
import { memoryIdempotencyStore } from '../src/idempotency/memory-store.ts';
import { prng } from './helpers.ts';

describe('KeyIndex', () => {
  // Weak hashes crowd keys into long probe runs that wrap around the end of the table: where
  // removal's back-shift goes wrong, a key later becomes unfindable or found at the wrong value.
  for (const [name, hash] of [
    ['full hash', hashKey],
    ['8 hashes', (key: string) => hashKey(key) & 7],
    ['hashes at the table end', (key: string) => -1 - (hashKey(key) & 3)],
  ] as const) {
    it(`finds, adds and removes as a Map would, growing from 16 slots (${name})`, () => {
      const random = prng(11);
      // Values are call numbers; the index compares keys through the key each value was added with.
      const keyOf = new Map<number, string>();
      const index = new KeyIndex((value, key) => keyOf.get(value) === key, 4);
      const model = new Map<string, number>();
      for (let i = 0; i < 30_000; i++) {
        const key = `key-${Math.floor(random() * 400)}`;
        const slot = index.find(key, hash(key));
        expect(slot === -1 ? undefined : index.valueAt(slot), `call ${i}: ${key}`).toBe(model.get(key));
        if (slot === -1) {
          if (random() < 0.6) {
            keyOf.set(i, key);
            const moves = index.moves;
            const added = index.add(hash(key), i);
            expect(index.valueAt(added)).toBe(i);
            expect(index.find(key, hash(key)), 'a slot that moved without a move counted').toBe(
              index.moves === moves ? added : index.find(key, hash(key)),
            );
            model.set(key, i);
          }
        } else if (random() < 0.5) {
          expect(index.slotOf(model.get(key)!, hash(key))).toBe(slot);
          index.removeAt(slot);
          model.delete(key);
        }
        expect(index.size).toBe(model.size);
      }
      for (const [key, value] of model) expect(index.valueAt(index.find(key, hash(key)))).toBe(value);
    });
  }

  it('reserve() rehashes once, keeps every key findable, and adds up to its capacity move nothing', () => {
    const keyOf = new Map<number, string>();
    const index = new KeyIndex((value, key) => keyOf.get(value) === key, 16);
    for (let i = 0; i < 10; i++) {
      keyOf.set(i, `k${i}`);
      index.add(hashKey(`k${i}`), i);
    }
    const before = index.moves;
    index.reserve(1_000);
    expect(index.moves).toBe(before + 1);
    index.reserve(500);
    expect(index.moves, 'a smaller reserve is no rehash').toBe(before + 1);
    for (let i = 10; i < 1_000; i++) {
      keyOf.set(i, `k${i}`);
      index.add(hashKey(`k${i}`), i);
    }
    expect(index.moves, 'no growth within the reserved capacity').toBe(before + 1);
    for (let i = 0; i < 1_000; i++) expect(index.valueAt(index.find(`k${i}`, hashKey(`k${i}`)))).toBe(i);
  });

  it('hashKey reads every character', () => {
    expect(hashKey('g:0123456789abcdef')).not.toBe(hashKey('g:0123456789abcdeg'));
    expect(hashKey('a-b')).not.toBe(hashKey('b-a'));
    expect(hashKey('')).not.toBe(hashKey('\u0000'));
  });
});

describe('memoryIdempotencyStore past its first arrays', () => {
  it('keeps every id up to maxEntries while growing, then forgets exactly the oldest', () => {
    const maxEntries = 5_000;
    const store = memoryIdempotencyStore({ maxEntries });
    for (let i = 0; i < 12_000; i++) {
      expect(store.sync.claim(`id-${i}`, 'T', 60_000)).toBe('claimed');
      if (i % 3 !== 0) expect(store.sync.complete(`id-${i}`, 'T', 60_000)).toBe(true);
      else store.sync.release(`id-${i}`, 'T');
    }
    // Released ids are gone; the last 5 000 written of the others are kept.
    const kept = Array.from({ length: 12_000 }, (_, i) => i)
      .filter((i) => i % 3 !== 0)
      .slice(-maxEntries);
    expect(store.size).toBe(maxEntries);
    for (const i of kept) expect(store.sync.claim(`id-${i}`, 'U', 60_000), `id-${i}`).toBe('done');
    expect(store.sync.claim(`id-${kept[0]! - 1}`, 'U', 60_000)).toBe('claimed');
  });
});

describe('memoryIdempotencyStore options', () => {
  it('refuses a maxEntries that is not a positive integer', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) {
      expect(() => memoryIdempotencyStore({ maxEntries }), String(maxEntries)).toThrow(RangeError);
    }
    expect(memoryIdempotencyStore({ maxEntries: 1 }).size).toBe(0);
  });
});

describe('KeyArena', () => {
  it('tells each entry its own key, through drops, compaction, growth and keys past U+00FF', () => {
    const random = prng(5);
    const entries = 3_000;
    const arena = new KeyArena(16);
    let size = 16;
    const model = new Map<number, string>();
    for (let i = 0; i < 60_000; i++) {
      const entry = Math.floor(random() * entries);
      if (entry >= size) {
        size = Math.max(2 * size, entry + 1);
        arena.resize(size);
      }
      const known = model.get(entry);
      if (known !== undefined) {
        expect(arena.equals(entry, known), `call ${i}`).toBe(true);
        expect(arena.equals(entry, `${known}x`)).toBe(false);
        expect(arena.equals(entry, known.slice(0, -1) + (known.endsWith('a') ? 'b' : 'a'))).toBe(false);
        arena.drop(entry);
        model.delete(entry);
        expect(arena.equals(entry, known)).toBe(false);
      } else {
        const kind = random();
        const key =
          kind < 0.05
            ? `ключ-${i}` // past U+00FF: kept as a string
            : kind < 0.08
              ? 'é'.repeat(1 + Math.floor(random() * 300)) + i // Latin-1, some long
              : kind < 0.09
                ? ''
                : `g:${i.toString(16).padStart(32, '0')}`;
        arena.set(entry, key);
        model.set(entry, key);
      }
    }
    for (const [entry, key] of model) expect(arena.equals(entry, key)).toBe(true);
  });
});
