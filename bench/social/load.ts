import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinned } from '../http';
import type { ClientCommand, ClientReply } from './clients';
import { stopChild } from '../child-process';

const root = join(import.meta.dirname, '../..');

export type LoadProcess = ReturnType<typeof startLoad>;

/** The sockets' process (bench/social/clients.ts) on `core`, driven over IPC: a command, then the reply it waits for. */
export function startLoad(core: number) {
  const [command, args] = pinned(core, process.execPath, ['--import', 'tsx', join(root, 'bench/social/clients.ts')]);
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let lost: string | undefined;
  const waiting: { type: ClientReply['type']; resolve: (reply: ClientReply) => void }[] = [];
  child.on('message', (reply: ClientReply) => {
    if (reply.type === 'lost') {
      lost ??= reply.reason;
      return;
    }
    const at = waiting.findIndex((w) => w.type === reply.type);
    if (at >= 0) waiting.splice(at, 1)[0]!.resolve(reply);
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const exited = exit.then((code) => {
    throw new Error(`the load process exited with ${code}`);
  });
  exited.catch(() => {});
  return {
    /** Why a connected socket was lost, if one was (the first reason). */
    takeLost() {
      const reason = lost;
      lost = undefined;
      return reason;
    },
    /** Sends `command` (if any) and resolves with the next reply of type `answer`. */
    async ask<T extends ClientReply['type']>(
      command: ClientCommand | undefined,
      answer: T,
      timeoutMs = 60_000,
    ): Promise<Extract<ClientReply, { type: T }>> {
      const reply = new Promise<ClientReply>((resolve) => waiting.push({ type: answer, resolve }));
      if (command) child.send(command);
      const timer = new AbortController();
      const timeout = sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
        throw new Error(`no "${answer}" from the load process within ${timeoutMs} ms`);
      });
      timeout.catch(() => {});
      try {
        return (await Promise.race([reply, exited, timeout])) as Extract<ClientReply, { type: T }>;
      } finally {
        timer.abort();
      }
    },
    /** Asks the load process to close its sockets and leave; kills it if it has not within 5 s. */
    stop: () => stopChild(child, exit),
  };
}
