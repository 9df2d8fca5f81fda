import type { Admin, Kafka } from 'kafkajs';
import { withConnectDeadline } from './connect-deadline.ts';
import { transportError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';

/**
 * The kafkajs admin that `inspect` and `peek` (operations, #23) read through, on either client
 * driver: they describe groups and read with a throwaway consumer, which only kafkajs does here.
 * Connected on first use; nothing connects for a transport that never inspects.
 */
export class OperationsAdmin {
  readonly #kafka: Kafka;
  readonly #options: ResolvedOptions;
  readonly #secrets: readonly string[];
  #admin: Promise<Admin> | undefined;

  constructor(kafka: Kafka, options: ResolvedOptions, secrets: readonly string[]) {
    this.#kafka = kafka;
    this.#options = options;
    this.#secrets = secrets;
  }

  admin(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      try {
        await withConnectDeadline(
          admin.connect(),
          this.#options.connectTimeoutMs,
          this.#options.brokers,
          () => admin.disconnect(),
        );
      } catch (error) {
        this.#admin = undefined;
        throw transportError('Could not connect to Kafka', error, this.#secrets);
      }
      return admin;
    })();
    return this.#admin;
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }
}
