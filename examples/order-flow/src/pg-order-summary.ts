// The order-summary read model in a PostgreSQL table. The projection writes it on the batch's
// transaction (with its checkpoint, so each event is applied exactly once); queries read it with
// plain SQL, as any other service or a report could.
import type { SqlClient, SqlPool } from '@switchyard/postgres';
import type { OrderStatus } from './order.ts';
import type { OrderSummary, OrderSummaryTable } from './order-summary.ts';

/** One table per projection version: a new version is rebuilt beside the live one. */
const TABLE = 'order_summary_v1';
const COLUMNS = 'order_id, customer_id, units, total, status, reason, payment_id, version, updated_at';

interface Row {
  order_id: string;
  customer_id: string;
  units: number;
  total: string;
  status: OrderStatus;
  reason: string | null;
  payment_id: string | null;
  version: number;
  updated_at: Date;
}

const fromRow = (r: Row): OrderSummary => ({
  orderId: r.order_id,
  customerId: r.customer_id,
  units: r.units,
  total: Number(r.total),
  status: r.status,
  reason: r.reason,
  paymentId: r.payment_id,
  version: r.version,
  updatedAt: r.updated_at.toISOString(),
});

export interface PgOrderSummaryTable extends OrderSummaryTable<SqlClient> {
  /** Create the table if missing (in the pool's search_path). */
  setup(): Promise<void>;
}

export function pgOrderSummaryTable(pool: SqlPool): PgOrderSummaryTable {
  const select = async (client: SqlClient, where: string, values: unknown[]) =>
    (await client.query<Row>(`select ${COLUMNS} from ${TABLE} ${where}`, values)).rows.map(fromRow);
  return {
    async setup() {
      await pool.query(`create table if not exists ${TABLE} (
        order_id text primary key,
        customer_id text not null,
        units int not null,
        total numeric(12, 2) not null,
        status text not null,
        reason text,
        payment_id text,
        version int not null,
        updated_at timestamptz not null
      )`);
      await pool.query(`create index if not exists ${TABLE}_customer on ${TABLE} (customer_id)`);
    },
    read: async (tx, orderId) => (await select(tx, 'where order_id = $1', [orderId]))[0],
    async write(tx, s) {
      await tx.query(
        `insert into ${TABLE} (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (order_id) do update set status = excluded.status, reason = excluded.reason,
           payment_id = excluded.payment_id, version = excluded.version, updated_at = excluded.updated_at`,
        [s.orderId, s.customerId, s.units, s.total, s.status, s.reason, s.paymentId, s.version, s.updatedAt],
      );
    },
    async truncate(tx) {
      await tx.query(`truncate ${TABLE}`);
    },
    get: async (orderId) => (await select(pool, 'where order_id = $1', [orderId]))[0],
    list: (filter = {}) =>
      select(
        pool,
        `where ($1::text is null or status = $1) and ($2::text is null or customer_id = $2) order by order_id`,
        [filter.status ?? null, filter.customerId ?? null],
      ),
  };
}
