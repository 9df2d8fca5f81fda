import { memorySagaStore } from '../src/index.ts';
import { sagaStoreSuite } from './saga-suite.ts';

// One store shared by every "process" of a case: memory is the durable medium here.
const store = memorySagaStore();
sagaStoreSuite({ name: 'memory', open: async () => ({ store, close: async () => {} }) });
