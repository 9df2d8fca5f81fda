// The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
// broker: a poisoned event shows up in the DLQ view, and a redrive from the page empties it.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepBroker, uniqueName } from '@switchyard/conformance';
import { connect, handle, NonRetryableError } from '@switchyard/core';
import { chromium } from 'playwright-core';
import type { Subscription } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { type Dashboard, dashboard } from '../src/index.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The workspace's global setup provisions NATS and sets NATS_URL; the default is its usual local port.
const nats = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
// The browser is a dependency of this test as a broker is of the others: required in CI.
const required = process.env.REQUIRE_BROKERS === '1';
const runnable = existsSync(CHROMIUM);

// Skipped only where no browser is installed and the run does not require one, and then says so.
describe.skipIf(!runnable && !required)(
  `dashboard in headless Chromium on NATS${runnable ? '' : ` (n/a: no browser at ${CHROMIUM}; apt-get install chromium)`}`,
  () => {
    const topics: string[] = [];
    afterAll(async () => {
      await sweepBroker('nats', nats, { match: (t) => topics.some((mine) => t.startsWith(mine)) });
    });

    it('shows a poisoned event in the DLQ view and a redrive from the page empties it', {
      timeout: 120_000,
    }, async () => {
      expect(existsSync(CHROMIUM), `no browser at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
      const topic = uniqueName('dashboard');
      const group = 'billing';
      topics.push(topic);
      const bus = await connect({ url: nats, source: 'dashboard-test' });
      const ops = bus;
      let fixed = false;
      const handled: { id: string; redrivecount: unknown }[] = [];
      let consumer: Subscription | undefined;
      let page: Dashboard | undefined;
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        await bus.provision(topic, { groups: [group] });
        consumer = bus
          .consume(topic, { group })
          .pipe(
            handle(async (event) => {
              if (event.type === 'order.poison' && !fixed) throw new NonRetryableError('cannot price order');
              handled.push({
                id: event.id,
                redrivecount: event.extensions.redrivecount,
              });
            }),
          )
          .subscribe();
        await bus.publish(topic, { type: 'order.placed', data: { n: 1 } });
        const poisonId = (await bus.publish(topic, { type: 'order.poison', data: { n: 2 } })).id;
        await until(async () => (await ops.inspect(topic, { group })).deadLetters === 1);

        page = await dashboard({ bus: ops, watch: [{ topic, group }], refreshMs: 300 });
        const tab = await browser.newPage();
        await tab.goto(page.url);
        const row = tab.locator(`[data-testid=groups] tr[data-topic="${topic}"]`);
        await row.locator('[data-testid=dead-letters]').filter({ hasText: '1' }).waitFor();
        await expect(row.locator('[data-testid=status]').textContent()).resolves.toMatch(
          /^(OK|WARN|STALL|STOP)$/,
        );

        await row.getByRole('button', { name: 'dead letters' }).click();
        const events = tab.locator('[data-testid=dlq-events] tbody tr');
        await events.filter({ hasText: poisonId }).waitFor();
        await expect(events.filter({ hasText: poisonId }).textContent()).resolves.toContain(
          'cannot price order',
        );
        await events.filter({ hasText: poisonId }).getByRole('button', { name: 'inspect' }).click();
        await expect(tab.locator('[data-testid=event]').textContent()).resolves.toContain(poisonId);
        const screenshot = join(tmpdir(), `switchyard-dashboard-${process.pid}.png`);
        await tab.screenshot({ path: screenshot, fullPage: true });
        console.log(`dashboard screenshot: ${screenshot}`);

        await tab.getByRole('button', { name: 'Dry run redrive' }).click();
        await tab.locator('[data-testid=report]').filter({ hasText: 'Dry run' }).waitFor();
        expect(handled.map((h) => h.id)).not.toContain(poisonId); // a dry run moves nothing

        fixed = true;
        await tab.getByRole('button', { name: 'Redrive', exact: true }).click();
        await tab.locator('[data-testid=report]').filter({ hasText: 'Redrive:' }).waitFor();
        await until(() => handled.some((h) => h.id === poisonId));
        expect(handled.find((h) => h.id === poisonId)?.redrivecount).toBe('1');
        await until(async () => (await ops.inspect(topic, { group })).deadLetters === 0);
        await row.locator('[data-testid=dead-letters]').filter({ hasText: /^0$/ }).waitFor();
      } finally {
        await browser.close();
        await page?.close();
        consumer?.unsubscribe();
        await bus.close({ drainTimeoutMs: 5_000 });
      }
    });
  },
);

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
