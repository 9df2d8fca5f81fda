// The public face of @switchyard/core/transport: what a transport author needs and a service
// author does not. The contract a transport implements, the kit of parts every transport would
// otherwise write again, and the helpers of a CloudEvents binding.
export { NAMED_ATTRIBUTES } from './cloudevent.ts';
export { decode, encode } from './codec.ts';
export { deduplicationId } from './dedup-id.ts';
export {
  bounded,
  checkUrlParams,
  Fifo,
  KeyedQueue,
  type Lane,
  Lifecycle,
  MAX_TIMER_MS,
  type PublishFailure,
  publishError,
  SETTLED_NOW,
  type Settlement,
  SettleOnce,
  settleOnce,
  settleSends,
  timerMs,
  wholeNumber,
} from './kit/index.ts';
export type { Logger, LogThreshold } from './logger.ts';
export { assertGroupName, assertTopicName, NAME_RULE } from './names.ts';
export {
  DEAD_LETTER_GROUP,
  type GroupStats,
  type GroupStatus,
  type Inspection,
  type PeekedMessage,
} from './ops/stats.ts';
export {
  type Capabilities,
  copyBytes,
  encodedSize,
  encodedSizeBound,
  type PublishReceipt,
  rememberedNames,
  type SubscribeOptions,
  type Transport,
  type TransportDelivery,
  type TransportFactory,
  type TransportFactoryOptions,
  type WireMessage,
} from './transport.ts';
