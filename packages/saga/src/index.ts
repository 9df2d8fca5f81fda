// The public face of @switchyard/saga.
export {
  type Compensation,
  type SagaContext,
  type SagaDefinition,
  type SagaDefinitionInput,
  type SagaEvents,
  type ScheduleOptions,
  saga,
  type TimeoutData,
  type Transition,
} from './definition.ts';
export { SagaConcurrencyError, SagaConfigurationError } from './errors.ts';
export { type MemorySagaStore, type MemorySagaStoreOptions, memorySagaStore } from './memory-store.ts';
export { type RunSagaOptions, runSaga, type SagaStep } from './run-saga.ts';
export type {
  OutgoingMessage,
  SagaChange,
  SagaCommitResult,
  SagaRecord,
  SagaStore,
  TimerRequest,
} from './store.ts';
export { type SagaTimeouts, type SagaTimeoutsOptions, sagaTimeouts } from './timeouts.ts';
