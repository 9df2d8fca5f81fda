import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * The prototype of a class kafkajs keeps behind its public API (`path` inside the package), for
 * the fixes this transport puts on it; undefined when this kafkajs has no such module or class.
 */
export function kafkajsPrototype(path: string): Record<string, unknown> | undefined {
  try {
    const exported = require(`kafkajs/src/${path}`) as { prototype?: Record<string, unknown> } | undefined;
    return exported?.prototype;
  } catch {
    return undefined;
  }
}
