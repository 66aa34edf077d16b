import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** The benches' helpers for a measuring process and the load process it drives. */

export const TASKSET = '/usr/bin/taskset';

/**
 * Pins every thread of this process (PGlite, libuv's file threads and the GC too) to core 0, so a
 * load process can have core 1; false where there is no taskset or a single core.
 */
export function pinToCore0(): boolean {
  const pinnable = existsSync(TASKSET) && availableParallelism() >= 2;
  if (pinnable) execFileSync(TASKSET, ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  return pinnable;
}

/** Asks a load process to leave (`{ type: 'exit' }` over IPC); kills it when it has not within 5 s. */
export async function stopChild(child: ChildProcess, exit: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send({ type: 'exit' });
  const timer = new AbortController();
  await Promise.race([exit, sleep(5_000, undefined, { signal: timer.signal }).catch(() => {})]);
  timer.abort();
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
