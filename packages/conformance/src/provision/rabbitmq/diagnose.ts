import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * What the node says about itself when the AMQP round trip fails: a node that accepts TCP but
 * stays silent is usually still booting or under a resource alarm, and only rabbitmqctl can tell.
 * Never throws: a missing or hanging CLI just says so.
 */
export async function diagnoseRabbitMq(): Promise<string> {
  const ask = async (args: string[]) => {
    try {
      const { stdout } = await run('rabbitmq-diagnostics', ['-q', ...args], { timeout: 15_000 });
      return stdout.trim().split('\n').slice(0, 8).join('; ');
    } catch (error) {
      const failed = error as { stderr?: string; message: string; killed?: boolean };
      if (failed.killed) return 'no answer within 15 s';
      return (failed.stderr || failed.message).trim().split('\n').slice(0, 3).join('; ');
    }
  };
  const [running, alarms] = await Promise.all([ask(['check_running']), ask(['alarms'])]);
  return `rabbitmq-diagnostics check_running: ${running || 'ok'}; alarms: ${alarms || 'none'}`;
}
