import { spawn } from 'node:child_process';
import { afterAll } from 'vitest';

/**
 * `npm start` as a real process: one node process with tsx's loader running server/main.ts (as
 * package.json's start script does, without npm's own start-up), so a signal reaches the server
 * itself and `kill -9` leaves no child behind. Every process still running when its file ends is
 * killed.
 */
export interface ServerProcess {
  child: ReturnType<typeof spawn>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
  /** The port it took, read from its "port taken" line. */
  port(): Promise<number>;
  /** Resolves once it logs "listening" (its app is ready), with its URL. */
  listening(timeoutMs?: number): Promise<string>;
}

const children = new Set<ReturnType<typeof spawn>>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

export function startServerProcess(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const output = () => ({ stdout, stderr });
  /** Waits for a line of its standard output to match. */
  const line = (pattern: RegExp, what: string, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} line within ${timeoutMs} ms:\n${JSON.stringify(output())}`)), timeoutMs);
      const look = () => {
        const match = pattern.exec(stdout);
        if (!match) return;
        clearTimeout(timer);
        child.stdout!.off('data', look);
        resolve(match);
      };
      child.stdout!.on('data', look);
      look();
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before its ${what} line:\n${JSON.stringify(output())}`));
      });
    });
  // Not a port picked beforehand: other test files listen on ports of their own meanwhile and could take it first.
  const port = () => line(/"url":"http:\/\/[^"]*:(\d+)","msg":"port taken"/, '"port taken"', 60_000).then((match) => Number(match[1]));
  // Bounds a hang on a busy machine; no measurement.
  const listening = (timeoutMs = 90_000) => line(/listening on (http:\/\/[^\s]+)/, '"listening"', timeoutMs).then((match) => match[1]!);
  return { child, exited, output, port, listening };
}
