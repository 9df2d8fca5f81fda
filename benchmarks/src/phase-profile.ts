// A CPU profile of one timed phase of a bench script (not its setup), for FOCUS_PROFILE and
// MEMORY_PROFILE: start() where the phase begins, stop() writes the profile to `file`. Without a
// file both do nothing.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface PhaseProfile {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function phaseProfile(file: string | undefined): Promise<PhaseProfile> {
  if (!file) return { start: async () => {}, stop: async () => {} };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  return {
    start: async () => {
      await session.post('Profiler.start');
    },
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}
