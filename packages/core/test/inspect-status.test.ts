import { describe, expect, it } from 'vitest';
import { groupStatus, type Reading } from '../src/ops/inspect-status.ts';
import { InspectionWindows } from '../src/ops/inspect-window.ts';

/** Readings one second apart from (backlog, position) pairs; consumers unknown unless given. */
const window = (pairs: Array<[number | null, string | null]>, consumers: number | null = null): Reading[] =>
  pairs.map(([backlog, position], i) => ({ at: i * 1_000, backlog, position, consumers }));

describe('groupStatus', () => {
  it('STOP when the broker says no member is attached, whatever the backlog', () => {
    expect(groupStatus(window([[5, '10']], 0))).toBe('STOP');
    expect(groupStatus(window([[0, '10']], 0))).toBe('STOP');
  });

  it('never STOP where the broker cannot tell (consumers null)', () => {
    expect(
      groupStatus(
        window([
          [5, '10'],
          [5, '10'],
          [5, '10'],
        ]),
      ),
    ).not.toBe('STOP');
  });

  it('OK with an empty window, nothing waiting, or too few readings to judge', () => {
    expect(groupStatus([])).toBe('OK');
    expect(
      groupStatus(
        window([
          [5, '1'],
          [5, '1'],
          [0, '6'],
        ]),
      ),
    ).toBe('OK');
    expect(
      groupStatus(
        window([
          [5, '1'],
          [5, '1'],
          [null, null],
        ]),
      ),
    ).toBe('OK');
    expect(
      groupStatus(
        window([
          [5, '1'],
          [9, '1'],
        ]),
      ),
    ).toBe('OK');
  });

  it('STALL: position unchanged over the whole window with backlog > 0', () => {
    expect(
      groupStatus(
        window(
          [
            [5, '7'],
            [5, '7'],
            [5, '7'],
          ],
          1,
        ),
      ),
    ).toBe('STALL');
    // Growing too: still STALL, the stronger finding.
    expect(
      groupStatus(
        window(
          [
            [5, '7'],
            [8, '7'],
            [12, '7'],
          ],
          1,
        ),
      ),
    ).toBe('STALL');
  });

  it('not STALL once the position moved within the window, or when it is unknown', () => {
    expect(
      groupStatus(
        window([
          [5, '6'],
          [5, '7'],
          [5, '7'],
        ]),
      ),
    ).toBe('OK');
    expect(
      groupStatus(
        window([
          [5, null],
          [5, null],
          [5, null],
        ]),
      ),
    ).toBe('OK');
  });

  it('not STALL when backlog was 0 somewhere in the window (nothing to consume then)', () => {
    expect(
      groupStatus(
        window([
          [0, '7'],
          [5, '7'],
          [5, '7'],
        ]),
      ),
    ).toBe('WARN');
    expect(
      groupStatus(
        window([
          [5, '7'],
          [0, '7'],
          [5, '7'],
        ]),
      ),
    ).toBe('OK');
  });

  it('WARN: backlog never falls and ends higher, position moving or unknown', () => {
    expect(
      groupStatus(
        window([
          [5, '1'],
          [5, '2'],
          [9, '3'],
        ]),
      ),
    ).toBe('WARN');
    expect(
      groupStatus(
        window([
          [5, null],
          [6, null],
          [7, null],
        ]),
      ),
    ).toBe('WARN');
  });

  it('OK when the backlog fell once in the window, or ended where it began', () => {
    expect(
      groupStatus(
        window([
          [5, '1'],
          [9, '2'],
          [8, '3'],
          [12, '4'],
        ]),
      ),
    ).toBe('OK');
    expect(
      groupStatus(
        window([
          [5, '1'],
          [5, '2'],
          [5, '3'],
        ]),
      ),
    ).toBe('OK');
    expect(
      groupStatus(
        window([
          [5, '1'],
          [null, '2'],
          [9, '3'],
        ]),
      ),
    ).toBe('OK');
  });
});

describe('InspectionWindows', () => {
  it('keeps the last `size` readings per (topic, group), oldest first', () => {
    const windows = new InspectionWindows(3);
    const reading = (backlog: number): Reading => ({ at: backlog, backlog, position: null, consumers: null });
    for (let i = 1; i <= 5; i++) windows.record('t', 'g', reading(i));
    const other = windows.record('t', 'h', reading(100));
    expect(other.map((r) => r.backlog)).toEqual([100]);
    expect(windows.record('t', 'g', reading(6)).map((r) => r.backlog)).toEqual([4, 5, 6]);
  });
});
