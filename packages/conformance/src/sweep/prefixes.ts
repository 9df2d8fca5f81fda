// The names tests, demos, benchmarks and probes give what they create on a shared broker. Each
// starts with one of these, so `pnpm brokers sweep` can remove leftovers without touching
// anything else on the broker. A new test helper that names topics adds its prefix here.
const LEFTOVER_TOPICS: readonly RegExp[] = [
  /^cf-[0-9a-f]{6}-/, // conformance cases: names.ts runPrefix
  /^(kafka|rmq|sqs|nats)-test\./, // each transport's own tests: test/helpers.ts
  /^sy-demo-/, // examples/order-flow (events.ts topicsFor)
  /^(orders|inventory|payments|deadletters)-[0-9a-z]{12}(?![0-9a-z])/, // the order flow before it had sy-demo-
  /^bench-/, // benchmarks/src/main.ts
  /^soak-[0-9a-f]{8}$/, // benchmarks/src/soak-inbox.ts
  /^switchyard-health-/, // provisioning probes (kafka, sqs)
];

/** True for a Switchyard topic (as the application names it) that a test or demo made. */
export function isLeftoverTopic(topic: string): boolean {
  return LEFTOVER_TOPICS.some((pattern) => pattern.test(topic));
}

/**
 * SQS/SNS and NATS stream names escape every character but `A-Za-z0-9-` as `_XX` per UTF-8 byte
 * (and may end in a hashed tail); undoing it gives back the head of the topic, which is all the
 * prefix match needs.
 */
export function unescapeName(name: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const hex = name[i] === '_' ? /^[0-9A-F]{2}/.exec(name.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(Number.parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(name[i]!));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
