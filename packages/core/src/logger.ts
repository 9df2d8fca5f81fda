/** How much a log line matters, least first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One log line: the bus's own or a broker client's, never holding credentials. */
export interface LogEntry {
  readonly level: LogLevel;
  /** Who speaks: `bus`, or a transport's client part (`kafka.Consumer`, ...). */
  readonly namespace: string;
  readonly message: string;
}

/** Where log lines go (`connect({ logger })`). */
export type Logger = (entry: LogEntry) => void;

/** The least level written; `nothing` writes none. */
export type LogThreshold = LogLevel | 'nothing';

const RANK: Readonly<Record<LogThreshold, number>> = { debug: 0, info: 1, warn: 2, error: 3, nothing: 4 };

/** The default sink: one line on stderr per entry. */
export const consoleLogger: Logger = (entry) => {
  console.error(`[switchyard] ${entry.level} ${entry.namespace}: ${entry.message}`);
};

/**
 * A logger that writes only entries at `threshold` or above, to `sink`. A sink that throws is
 * ignored: logging must never break the operation it reports on.
 */
export function leveledLogger(sink: Logger = consoleLogger, threshold: LogThreshold = 'warn'): Logger {
  const least = RANK[threshold];
  return (entry) => {
    if (RANK[entry.level] < least) return;
    try {
      sink(entry);
    } catch {
      // A broken sink is the application's to notice; the bus carries on.
    }
  };
}
