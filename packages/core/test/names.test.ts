import { describe, expect, it } from 'vitest';
import { InvalidNameError } from '../src/errors.ts';
import { assertGroupName, assertTopicName } from '../src/names.ts';

describe('the name rule every transport shares', () => {
  it('accepts dot-separated parts of letters, digits, _ and -, up to 249 characters', () => {
    for (const topic of ['orders', 'orders.billing.dlq', 'A_z-0.9', 'x'.repeat(249), 'amq', 'x.amq.y']) {
      expect(() => assertTopicName(topic), topic).not.toThrow();
    }
    expect(() => assertGroupName('orders', 'billing.eu_1-a')).not.toThrow();
  });

  it('refuses what some broker refuses, saying which characters are allowed', () => {
    for (const topic of [
      '',
      ' ',
      'a b',
      'a/b',
      'a:b',
      'é',
      'a*',
      'a>',
      '.a',
      'a.',
      'a..b',
      'amq.x',
      'x'.repeat(250),
    ]) {
      expect(() => assertTopicName(topic), JSON.stringify(topic)).toThrow(InvalidNameError);
    }
    const error = (() => {
      try {
        assertGroupName('orders', 'billing team');
      } catch (e) {
        return e as InvalidNameError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidNameError);
    expect(error?.kind).toBe('group');
    expect(error?.value).toBe('billing team');
    expect(error?.message).toContain("A-Z a-z 0-9 '_' '-'");
  });

  it('keeps a topic and its group within 254 characters (RabbitMQ queue <topic>:<group>)', () => {
    const topic = 't'.repeat(200);
    expect(() => assertGroupName(topic, 'g'.repeat(54))).not.toThrow();
    expect(() => assertGroupName(topic, 'g'.repeat(55))).toThrow(/at most 254/);
  });
});
