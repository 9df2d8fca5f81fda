/** What a sweep found (and removed, unless it was a dry run) on one broker. */
export interface SweepCount {
  readonly names: number;
  readonly what: string;
  readonly extra?: number;
  readonly extraWhat?: string;
}

export interface SweepOptions {
  /** Only count. */
  readonly dryRun?: boolean;
  /** Which Switchyard topics to remove (queues, groups and streams follow their topic); default: every test and demo prefix. */
  readonly match?: (topic: string) => boolean;
  /**
   * Exactly these topics (with `match` for the brokers that name things after the whole topic).
   * SQS and SNS cut long names and end them in a hash of the topic, which a prefix cannot match.
   */
  readonly topics?: readonly string[];
}
