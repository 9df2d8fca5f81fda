// The same suite on the @platformatic/kafka driver (`kafka: { client: 'platformatic' }`).
import { runConformance } from '@switchyard/conformance';
import { kafkaTarget } from './conformance-target.ts';

runConformance(kafkaTarget('platformatic'));
