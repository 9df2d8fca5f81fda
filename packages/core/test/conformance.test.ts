// memory:// passes the same suite as every broker.
import { runConformance } from '@switchyard/conformance';
import { connect, MemoryTransport } from '../src/index.ts';

let run = 0;
const url = `memory://conformance-${process.pid}`;

runConformance({
  name: 'memory',
  url,
  capabilities: new MemoryTransport(`capabilities-${process.pid}`).capabilities,
  connect: (options) => connect({ url: options?.url ?? url, source: `conformance-${run++}` }),
  // A foreign producer on memory:// writes straight to the broker, bypassing the codec.
  async injectRaw(topic, body) {
    await new MemoryTransport(`conformance-${process.pid}`).publish(topic, [{ headers: {}, body }]);
  },
});
