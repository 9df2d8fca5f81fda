import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { UnsupportedOptionError } from '../src/errors.ts';
import { MemoryTransport } from '../src/memory/transport.ts';
import type { Capabilities } from '../src/transport.ts';
import { uniqueName } from './helpers.ts';

function busWith(changes: Partial<Capabilities>): Bus {
  const transport = new MemoryTransport(uniqueName('caps'));
  Object.defineProperty(transport, 'capabilities', { value: { ...transport.capabilities, ...changes } });
  return new Bus(transport, { source: 'test' });
}

describe('consume() refuses what the transport cannot promise', () => {
  it("refuses keyOrder 'group' where a key is not routed to one member", async () => {
    const bus = busWith({ keyOrderAcrossMembers: false });
    await expect(firstValueFrom(bus.consume('t', { group: 'g', keyOrder: 'group' }))).rejects.toThrow(
      UnsupportedOptionError,
    );
    await expect(firstValueFrom(bus.consume('t', { group: 'g', keyOrder: 'group' }))).rejects.toThrow(
      /keyOrderAcrossMembers/,
    );
    await bus.close();
  });

  it("refuses keyOrder 'member' where the broker does not hand out a key's events in order", async () => {
    const bus = busWith({ keyOrderWithinMember: false, keyOrderAcrossMembers: false });
    for (const keyOrder of ['member', 'group'] as const) {
      await expect(firstValueFrom(bus.consume('t', { group: 'g', keyOrder }))).rejects.toThrow(
        /keyOrderWithinMember/,
      );
    }
    // Not asked for: nothing is refused.
    await bus.provision('t', { groups: ['g'] });
    const first = firstValueFrom(bus.consume('t', { group: 'g' }));
    await bus.publish('t', { type: 'x', key: 'k' });
    expect((await first).event?.key).toBe('k');
    await bus.close({ drainTimeoutMs: 100 });
  });

  it("refuses from 'earliest' where the broker cannot replay", async () => {
    const bus = busWith({ replay: false });
    await expect(firstValueFrom(bus.consume('t', { group: 'g', from: 'earliest' }))).rejects.toThrow(
      /replay/,
    );
    await bus.close();
  });

  it('accepts both where the transport can', async () => {
    const bus = busWith({});
    await bus.provision('t', { groups: ['g'] });
    const first = firstValueFrom(bus.consume('t', { group: 'g', keyOrder: 'group', from: 'earliest' }));
    await bus.publish('t', { type: 'x', key: 'k' });
    expect((await first).event?.key).toBe('k');
    await bus.close({ drainTimeoutMs: 100 });
  });
});
