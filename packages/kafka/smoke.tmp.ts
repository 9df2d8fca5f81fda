import { KafkaTransport } from './src/index.ts';
const t = new KafkaTransport('kafka://127.0.0.1:9092?client=platformatic', { sessionTimeoutMs: 6000 });
await t.connect();
const topic = `kafka-test.smoke2.${Date.now()}`;
await t.provision(topic, 'g', 'earliest');
const msgs = Array.from({ length: 200 }, (_, i) => ({
  headers: { specversion: '1.0', id: `m${i}`, source: 's', type: 't' },
  body: new TextEncoder().encode(`b${i}`),
  key: `k${i % 7}`,
}));
await t.publish(topic, msgs);
console.log('published');
let got = 0;
const started = Date.now();
await new Promise<void>((resolve, reject) => {
  const sub = t.subscribe(topic, { group: 'g', prefetch: 16 }).subscribe({
    next: (d) => {
      got++;
      void d.ack();
      if (got === 200) {
        sub.unsubscribe();
        resolve();
      }
    },
    error: reject,
  });
  setTimeout(() => reject(new Error(`timeout got ${got}`)), 30000);
});
console.log('got', got, Date.now() - started, 'ms');
await new Promise((r) => setTimeout(r, 1000));
console.log('lag', await t.lag(topic, 'g'));
await t.close();
