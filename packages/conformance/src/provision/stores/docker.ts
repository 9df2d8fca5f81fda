import type { StoreName } from './types.ts';

/** Start PostgreSQL or Redis with testcontainers (Ryuk removes it if we die). */
export async function startStoreContainer(
  name: StoreName,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const { GenericContainer } = await import('testcontainers');
  const container =
    name === 'postgres'
      ? new GenericContainer('postgres:15-alpine')
          .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_USER: 'root', POSTGRES_DB: 'test' })
          .withExposedPorts(5432)
      : new GenericContainer('redis:7-alpine').withExposedPorts(6379);
  const started = await container.withStartupTimeout(120_000).start();
  const port = started.getMappedPort(name === 'postgres' ? 5432 : 6379);
  const host = started.getHost();
  return {
    url: name === 'postgres' ? `postgres://root@${host}:${port}/test` : `redis://${host}:${port}`,
    stop: async () => {
      await started.stop();
    },
  };
}
