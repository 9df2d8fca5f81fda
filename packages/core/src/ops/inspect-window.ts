import type { Reading } from './inspect-status.ts';

/** Readings kept per (topic, group): Burrow's default window. */
export const WINDOW_SIZE = 10;
/** (topic, group) pairs remembered; the least recently inspected is forgotten past this. */
const MAX_GROUPS = 1_000;

/** The recent readings of each (topic, group) this bus inspected, for `groupStatus`. */
export class InspectionWindows {
  readonly #windows = new Map<string, Reading[]>();
  readonly #size: number;

  constructor(size = WINDOW_SIZE) {
    this.#size = size;
  }

  /** Add `reading` and return the window it ends, oldest first. */
  record(topic: string, group: string, reading: Reading): readonly Reading[] {
    const id = `${topic}\u0000${group}`;
    const window = this.#windows.get(id) ?? [];
    // Re-inserted on every reading, so Map order is least recently inspected first.
    this.#windows.delete(id);
    this.#windows.set(id, window);
    window.push(reading);
    if (window.length > this.#size) window.shift();
    if (this.#windows.size > MAX_GROUPS) this.#windows.delete(this.#windows.keys().next().value!);
    return window;
  }
}
