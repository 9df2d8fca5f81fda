import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * What a module kafkajs keeps behind its public API exports (`path` inside the package), for the
 * fixes this transport puts on it; undefined when this kafkajs has no such module.
 */
export function kafkajsModule(path: string): unknown {
  try {
    return require(`kafkajs/src/${path}`) as unknown;
  } catch {
    return undefined;
  }
}

/** The prototype of a class kafkajs keeps behind its public API; undefined when there is none. */
export function kafkajsPrototype(path: string): Record<string, unknown> | undefined {
  return (kafkajsModule(path) as { prototype?: Record<string, unknown> } | undefined)?.prototype;
}
