// A group member the crash case kills with SIGKILL: it takes deliveries and never settles them.
import { connect } from '@switchyard/core';

const [url, topic, group, wanted] = process.argv.slice(2) as [string, string, string, string];
const bus = await connect({ url, source: 'conformance-crash-child' });
let received = 0;
bus.consume(topic, { group, prefetch: 100 }).subscribe({
  next: () => {
    received += 1;
    if (received === Number(wanted)) process.stdout.write('HOLDING\n');
  },
  error: (error: unknown) => {
    process.stderr.write(`crash child: ${String(error)}\n`);
    process.exit(2);
  },
});
process.stdout.write('SUBSCRIBED\n');
