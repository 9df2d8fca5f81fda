// Kafka passes the same suite as every other broker: crash (SIGKILL), a cut through a TCP proxy,
// and a restart of a private broker.
import { runConformance } from '@switchyard/conformance';
import { kafkaTarget } from './conformance-target.ts';

runConformance(kafkaTarget('kafkajs'));
