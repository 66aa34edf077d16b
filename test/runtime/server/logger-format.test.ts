import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The two ways logs are written, as a process writes them to its standard output. */
function logOnce(format: 'json' | 'pretty'): Promise<string> {
  const script = `
    import { createLogger } from './runtime/server/logger.ts';
    const log = createLogger({ level: 'info', service: 'svc', format: '${format}' });
    log.warn({ userId: 'u-1', password: 'hunter2hunter2' }, 'socket refused');
    log.flush?.();`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 15_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
}

describe('log formats', () => {
  it('json: one object per line, the level by name, secrets redacted', async () => {
    const line = JSON.parse((await logOnce('json')).trim());
    expect(line).toMatchObject({ level: 'warn', service: 'svc', userId: 'u-1', password: '[redacted]', msg: 'socket refused' });
  });

  it('pretty: a readable line with the time, the level and the message, then the fields; secrets redacted', async () => {
    const text = await logOnce('pretty');
    expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] WARN: socket refused\n\s+userId: "u-1"\n\s+password: "\[redacted\]"/);
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain('hunter2');
  });
});
