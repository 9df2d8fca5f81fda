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
}
