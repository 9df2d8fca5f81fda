// One side of one pair for one round, in a process of its own (so its RSS is its own):
//   node --conditions=@switchyard/source --expose-gc worker.ts '<json WorkerInput>'
// mode 'scenarios' runs the scenarios and leaves the backlog topic; mode 'slow' then consumes it
// slowly in a fresh process and deletes it. Progress goes to stderr; the last stdout line is the result.
import type { Side } from './driver.ts';
import { type Broker, loadPair } from './pairs.ts';
import { peer } from './peers/index.ts';
import { runScenarios, runSlowConsumer, type ScenarioSettings } from './scenarios.ts';

export interface WorkerInput {
  readonly broker: Broker;
  readonly side: Side;
  readonly prefix: string;
  readonly mode: 'scenarios' | 'slow';
  readonly settings: ScenarioSettings;
}

const input = JSON.parse(process.argv[2]!) as WorkerInput;
const pair = await loadPair(input.broker);
const isPeer = input.side.startsWith('peer:');
const driver = isPeer ? await peer(input.side as `peer:${string}`).create() : pair.create(input.side);
const group = `${input.prefix}-g`;
const topicOf = (scenario: string) => `${input.prefix}-${scenario}`;
const topics =
  input.mode === 'slow'
    ? [topicOf('control'), topicOf('backlog')]
    : ['single', 'batch', 'e2e', 'latency'].map(topicOf);

let failed: unknown;
try {
  await driver.open();
  const result =
    input.mode === 'slow'
      ? await runSlowConsumer(driver, topicOf, group, input.settings)
      : await runScenarios(driver, topicOf, group, input.settings);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
} catch (error) {
  failed = error;
  console.error(error);
} finally {
  await driver.close().catch((error: unknown) => console.error('close:', error));
  // A failed scenarios run leaves no backlog for the slow consumer: delete it now.
  const leftover =
    // (A peer has no slow run: it leaves nothing behind either.)
    (failed || isPeer) && input.mode === 'scenarios'
      ? [...topics, topicOf('control'), topicOf('backlog')]
      : topics;
  // A peer runs on the raw side's topology (peers/raw-backed.ts), so the raw cleanup removes it.
  await pair
    .cleanup(isPeer ? 'raw' : input.side, leftover, group)
    .catch((error: unknown) => console.error('cleanup:', error));
}
process.exit(failed ? 1 : 0);
