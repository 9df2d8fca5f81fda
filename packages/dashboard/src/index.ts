// @switchyard/dashboard: a live local page and the `switchyard` CLI over bus.inspect() and bus.deadLetters().
export type { OpsBus, Watch } from './ops-bus.ts';
export { parseWatch } from './ops-bus.ts';
export { type Dashboard, type DashboardOptions, dashboard, type Row } from './server.ts';
