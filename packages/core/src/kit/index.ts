// The transport kit: what every transport needs the same way, written once.
export { type PublishFailure, publishError, settleSends } from './batch-result.ts';
export { bounded, MAX_TIMER_MS } from './bounded.ts';
export { Fifo } from './fifo.ts';
export { KeyedQueue, type Lane } from './keyed-queue.ts';
export { Lifecycle } from './lifecycle.ts';
export { timerMs, wholeNumber } from './option-numbers.ts';
export { SETTLED_NOW, type Settlement, SettleOnce, settleOnce } from './settle-once.ts';
export { checkUrlParams } from './url-params.ts';
