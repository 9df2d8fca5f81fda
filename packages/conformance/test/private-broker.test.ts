// A private broker answers at its own address, survives a restart with its data, and is gone after stop().
import { describe, expect, test } from 'vitest';
import { driverFor } from '../src/provision/drivers.ts';
import { launchPrivateBroker, type PrivateBrokerName } from '../src/provision/private-broker.ts';
import { isListening } from '../src/provision/wait.ts';

describe.each(['nats', 'sqs', 'rabbitmq', 'kafka'] as const)('private %s', (name: PrivateBrokerName) => {
  test('answers, restarts on the same address, and stops', { timeout: 300_000 }, async () => {
    const broker = await launchPrivateBroker(name);
    try {
      const driver = driverFor(name, { kafkaVersion: '3.9.2', emulator: 'fauxqs' });
      expect(broker.url).not.toMatch(/:(9092|5672|4222|4566)\b/);
      await driver.probe(broker.url);
      const timing = await broker.restart();
      expect(timing.readyMs).toBeGreaterThan(0);
      await driver.probe(broker.url);
    } finally {
      await broker.stop();
    }
    const port = Number(broker.url.slice(broker.url.lastIndexOf(':') + 1));
    expect(await isListening('127.0.0.1', port)).toBe(false);
  });
});
