// Preloaded (node --import) by run.mjs for the tasks that probe and sweep Kafka with raw kafkajs
// (packages/conformance): on Node 24 its idle request queues printed a TimeoutNegativeWarning.
// This installs the fix @switchyard/kafka puts on kafkajs. Here, not in the conformance package:
// that package must not depend on a transport, whose tests depend on it.
import { quietIdleRequestQueues } from '../packages/kafka/src/request-queue-fix.ts';

quietIdleRequestQueues();
