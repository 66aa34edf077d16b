import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { uploadResumable } from '../../runtime/client/upload';

/**
 * The client side of the upload benchmark (bench/uploads.ts): a process of its own, pinned to
 * core 1 when there are two cores, driven by the runner over IPC. It reads the source file into
 * memory once (a Uint8Array, as a browser or app holds a picked file's bytes), then on each
 * `upload` sends it with the runtime's tus helper `uploadResumable` over loopback and times it
 * from the first request to the final response; `verify` downloads the stored file, hashes it,
 * and deletes the medium so that the quota and the disk stay as they were.
 */
export type ClientCommand =
  | { type: 'load'; path: string }
  | { type: 'upload'; baseUrl: string; token: string; chunkBytes: number }
  | { type: 'verify'; baseUrl: string; token: string; mediaId: string }
  | { type: 'exit' };

export type ClientReply =
  | { type: 'loaded'; bytes: number; sha256: string }
  | { type: 'uploaded'; ms: number; cpuMs: number; requests: number; mediaId: string; sizeBytes: number; mediaType: string }
  | { type: 'verified'; sha256: string; bytes: number; downloadMs: number }
  | { type: 'failed'; message: string };

const send = (reply: ClientReply) => process.send!(reply);
let data: Uint8Array | undefined;

async function run(command: ClientCommand): Promise<ClientReply | undefined> {
  switch (command.type) {
    case 'load': {
      data = await readFile(command.path);
      return { type: 'loaded', bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
    }
    case 'upload': {
      if (!data) throw new Error('upload before load');
      let requests = 0;
      const counted: typeof fetch = (input, init) => {
        requests++;
        return fetch(input, init);
      };
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = await uploadResumable({
        url: `${command.baseUrl}/api/v1/uploads`,
        data,
        type: 'video/mp4',
        name: 'bench.mp4',
        headers: () => ({ authorization: `Bearer ${command.token}` }),
        chunkSizeBytes: command.chunkBytes,
        // A failure is reported, not retried: a figure with a retry in it measures something else.
        retryDelaysMs: [],
        fetch: counted,
      });
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const media = result.data as { id?: string; sizeBytes?: number; type?: string } | undefined;
      if (typeof media?.id !== 'string') throw new Error(`the final answer carries no medium: ${JSON.stringify(result.data)}`);
      return {
        type: 'uploaded',
        ms,
        cpuMs: (used.user + used.system) / 1000,
        requests,
        mediaId: media.id,
        sizeBytes: media.sizeBytes ?? -1,
        mediaType: media.type ?? '',
      };
    }
    case 'verify': {
      const headers = { authorization: `Bearer ${command.token}` };
      const url = `${command.baseUrl}/api/v1/media/${command.mediaId}`;
      const started = performance.now();
      const response = await fetch(`${url}/file`, { headers });
      if (!response.ok || !response.body) throw new Error(`GET ${url}/file answered ${response.status}: ${await response.text()}`);
      const hash = createHash('sha256');
      let bytes = 0;
      const reader = response.body.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        hash.update(read.value);
        bytes += read.value.byteLength;
      }
      const downloadMs = performance.now() - started;
      const removed = await fetch(url, { method: 'DELETE', headers });
      if (removed.status !== 204) throw new Error(`DELETE ${url} answered ${removed.status}: ${await removed.text()}`);
      return { type: 'verified', sha256: hash.digest('hex'), bytes, downloadMs };
    }
    case 'exit':
      process.disconnect();
      return undefined;
  }
}

process.on('message', (command: ClientCommand) => {
  run(command).then(
    (reply) => reply && send(reply),
    (error: unknown) => send({ type: 'failed', message: error instanceof Error ? `${error.message}${causeOf(error)}` : String(error) }),
  );
});

function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (cause: ${cause.message})` : '';
}
