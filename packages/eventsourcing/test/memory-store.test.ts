import { EventStore, MemoryEventLog, MemoryProjectionStore } from '../src/index.ts';
import { eventStoreSuite, type TotalsModel } from './event-store-suite.ts';

function memoryTotals(): TotalsModel<undefined> {
  const tables = new Map<string, Map<string, { total: number; applied: number }>>();
  return {
    async create(table) {
      tables.set(table, new Map());
    },
    async add(_tx, table, stream, n) {
      const rows = tables.get(table)!;
      const row = rows.get(stream) ?? { total: 0, applied: 0 };
      rows.set(stream, { total: row.total + n, applied: row.applied + 1 });
    },
    async truncate(_tx, table) {
      tables.set(table, new Map());
    },
    async read(table) {
      const rows = [...(tables.get(table) ?? new Map()).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      return {
        hash: rows.map(([stream, r]) => `${stream}:${r.total}`).join(','),
        applied: rows.reduce((sum, [, r]) => sum + r.applied, 0),
        sum: rows.reduce((sum, [, r]) => sum + r.total, 0),
      };
    },
  };
}

eventStoreSuite<undefined>({
  name: 'memory',
  // One log and one projection store shared by every "process" of a case: memory is the medium.
  async world() {
    const log = new MemoryEventLog();
    const projections = new MemoryProjectionStore();
    return {
      open: async (options) => new EventStore(log, options),
      projections: async () => projections,
      totals: memoryTotals(),
      close: async () => {},
    };
  },
  notApplicable: {
    kill: '(n/a for memory: an append is one synchronous step in one process, no connection to kill)',
    gap: '(n/a for memory: each append commits at once in position order, no late commit exists)',
    sigkill: '(n/a for memory: its state lives in one process)',
  },
});
