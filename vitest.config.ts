import { defineConfig } from 'vitest/config';
// The global setup (this process) probes Kafka with raw kafkajs: give it @switchyard/kafka's fix for
// kafkajs's idle request-queue timer, as the broker tools get it, or every run starts with a
// TimeoutNegativeWarning on Node 24.
import './scripts/quiet-kafkajs.mjs';

// One test command for the whole workspace. Sources are resolved through the
// `@switchyard/source` export condition, so tests never run against a stale build.
// No 'import' here: Vite adds import/require per import kind; forcing 'import' made a CommonJS
// require() pick a package's ESM build (pg's require('pg-pool') → a module namespace, not a class).
const conditions = ['@switchyard/source', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    globalSetup: process.env.SWITCHYARD_NO_BROKERS
      ? []
      : ['packages/conformance/src/provision/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
});
