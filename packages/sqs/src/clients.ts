import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { ResolvedOptions } from './options.ts';

/** Emulators accept any key; these are used only with an endpoint and when the chain found none. */
const EMULATOR_CREDENTIALS = { accessKeyId: 'switchyard-emulator', secretAccessKey: 'switchyard-emulator' };
const EMULATOR_REGION = 'us-east-1';

export interface Clients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

/** SQS and SNS clients sharing region, credentials and endpoint. */
export function createClients(options: ResolvedOptions): Clients {
  const config = sharedConfig(options);
  return { sqs: new SQSClient(config), sns: new SNSClient(config) };
}

function sharedConfig(options: ResolvedOptions): SQSClientConfig {
  const config: SQSClientConfig = {
    requestHandler: {
      connectionTimeout: 5_000,
      // A long poll is silent for up to waitTimeSeconds; anything much longer is a dead socket.
      requestTimeout: (options.waitTimeSeconds + 15) * 1_000,
    },
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.region !== undefined) config.region = options.region;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  if (options.endpoint !== undefined && (options.region === undefined || options.credentials === undefined)) {
    // The standard chains first, as on AWS; an emulator is still reachable when they come up empty.
    // A throwaway client is how the SDK exposes its default chains without importing their packages.
    const defaults = new SQSClient({});
    const chainRegion = defaults.config.region;
    const chainCredentials = defaults.config.credentials;
    defaults.destroy();
    if (options.region === undefined) {
      let region: Promise<string> | undefined;
      config.region = () => {
        region ??= chainRegion().catch(() => EMULATOR_REGION);
        return region;
      };
    }
    if (options.credentials === undefined) {
      // Once the chain has come up empty it is not asked again on every request.
      let empty = false;
      config.credentials = async () => {
        if (empty) return EMULATOR_CREDENTIALS;
        try {
          return await chainCredentials();
        } catch {
          empty = true;
          return EMULATOR_CREDENTIALS;
        }
      };
    }
  }
  return config;
}
