// Shared measurement code: RSS sampler, latency histogram, concurrency limiter, statistics.

/** Samples the process's resident set size at a fixed interval and keeps the peak. */
export class RssSampler {
  #timer: NodeJS.Timeout | undefined;
  #peak = 0;
  readonly intervalMs: number;

  constructor(intervalMs = 25) {
    this.intervalMs = intervalMs;
  }

  start(): this {
    this.reset();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#timer.unref();
    return this;
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.#peak) this.#peak = rss;
    return rss;
  }

  /** Forget the peak so far; the next samples start a new one. */
  reset(): void {
    this.#peak = process.memoryUsage.rss();
  }

  get peak(): number {
    return Math.max(this.#peak, this.sample());
  }

  stop(): number {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return this.peak;
  }
}

/** Latency samples in milliseconds; percentiles by sorting (sample counts here stay below a million). */
export class Histogram {
  #values: number[] = [];

  record(ms: number): void {
    this.#values.push(ms);
  }

  get count(): number {
    return this.#values.length;
  }

  percentile(p: number): number {
    if (this.#values.length === 0) return Number.NaN;
    const sorted = Float64Array.from(this.#values).sort();
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank]!;
  }
}

/** At most `concurrency` handlers at once; `acquire` waits for a free slot. */
export class Limiter {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(concurrency: number) {
    this.#free = concurrency;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }

  /** Take a slot (waiting if needed), then run `task` in it without waiting for it to finish. */
  async run(task: () => Promise<void>): Promise<void> {
    await this.acquire();
    task().finally(() => this.release());
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** Resolves when `done()` is true, polling; rejects after `timeoutMs` with `what` in the message. */
export async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** One progress line on stderr (never stdout: the worker's stdout carries its result). */
export function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}
