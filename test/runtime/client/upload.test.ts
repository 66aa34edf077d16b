import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server, type ServerOptions } from '@tus/server';
import { afterEach, describe, expect, it } from 'vitest';
import { uploadResumable } from '../../../runtime/client/upload';
import { failure } from './server';
import { cuttingProxy } from '../../support/cutting-proxy';

const MiB = 1024 * 1024;
const TINY_DELAYS = [0, 10, 10];

interface SeenRequest {
  method: string;
  /** Declared body length: a cut request declares more than the server received. */
  bytes: number;
  offset: number | undefined;
}

interface TusServer {
  port: number;
  url: string;
  requests: SeenRequest[];
  stored(uploadUrl: string): Promise<Buffer>;
}

type Hooks = Pick<ServerOptions, 'onUploadCreate' | 'onUploadFinish' | 'onIncomingRequest'>;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startTus(hooks: Hooks = {}): Promise<TusServer> {
  const directory = await mkdtemp(join(tmpdir(), 'upload-test-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  const tus = new Server({ path: '/files', datastore: new FileStore({ directory }), relativeLocation: true, ...hooks });
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const offset = req.headers['upload-offset'];
    requests.push({
      method: req.method ?? '',
      bytes: Number(req.headers['content-length'] ?? 0),
      offset: offset === undefined ? undefined : Number(offset),
    });
    void tus.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/files`,
    requests,
    // FileStore keeps an upload's bytes in a file named by the upload's id.
    stored: (uploadUrl) => readFile(join(directory, uploadUrl.split('/').pop()!)),
  };
}

async function startCuttingProxy(targetPort: number, cutAfterBytes: number): Promise<{ url: string }> {
  const proxy = await cuttingProxy(targetPort, cutAfterBytes);
  cleanups.push(proxy.close);
  return { url: `http://127.0.0.1:${proxy.port}/files` };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sum(requests: SeenRequest[], method: string): number {
  return requests.filter((request) => request.method === method).reduce((total, request) => total + request.bytes, 0);
}

describe('uploadResumable', () => {
  it('uploads a Blob in chunks, with its metadata, and reports progress up to the total', async () => {
    const metadata: unknown[] = [];
    const tus = await startTus({
      onUploadCreate: async (_req, upload) => {
        metadata.push(upload.metadata);
        return {};
      },
    });
    const source = randomBytes(3 * MiB);
    const progress: [number, number][] = [];

    const result = await uploadResumable({
      url: tus.url,
      data: new Blob([source]),
      type: 'image/png',
      name: 'milonga-été.png',
      chunkSizeBytes: MiB,
      retryDelaysMs: TINY_DELAYS,
      onProgress: (sent, total) => progress.push([sent, total]),
    });

    expect(result.uploadUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/[^/]+$/);
    expect(result.data).toBeUndefined();
    expect(sha256(await tus.stored(result.uploadUrl))).toBe(sha256(source));
    expect(progress).toEqual([
      [MiB, 3 * MiB],
      [2 * MiB, 3 * MiB],
      [3 * MiB, 3 * MiB],
    ]);
    expect(metadata).toEqual([{ filetype: 'image/png', filename: 'milonga-été.png' }]);
    expect(tus.requests.map((request) => request.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH']);
  });

  it('resumes from the server offset after the connection is cut in the middle of a PATCH', async () => {
    const tus = await startTus();
    const proxy = await startCuttingProxy(tus.port, 2 * MiB);
    const source = randomBytes(4 * MiB);

    const result = await uploadResumable({
      url: proxy.url,
      data: new Uint8Array(source),
      type: 'application/octet-stream',
      chunkSizeBytes: 4 * MiB,
      retryDelaysMs: TINY_DELAYS,
    });

    expect(sha256(await tus.stored(result.uploadUrl))).toBe(sha256(source));
    expect(tus.requests.map((request) => request.method)).toEqual(['POST', 'PATCH', 'HEAD', 'PATCH']);
    const resumed = tus.requests[3]!;
    expect(resumed.offset).toBeGreaterThan(0);
    expect(resumed.offset! + resumed.bytes).toBe(4 * MiB);
  });

  it('continues an aborted upload from its resumeUrl instead of starting again', async () => {
    const tus = await startTus();
    const source = randomBytes(3 * MiB);
    const controller = new AbortController();
    let uploadUrl = '';
    const first = await failure(
      uploadResumable({
        url: tus.url,
        data: source,
        type: 'video/mp4',
        chunkSizeBytes: MiB,
        retryDelaysMs: TINY_DELAYS,
        signal: controller.signal,
        onCreated: (url) => {
          uploadUrl = url;
        },
        onProgress: () => controller.abort(),
      }),
    );
    expect(first.code).toBe('ABORTED');
    const sentBefore = sum(tus.requests, 'PATCH');
    tus.requests.length = 0;
    const progress: number[] = [];

    const result = await uploadResumable({
      url: tus.url,
      data: source,
      type: 'video/mp4',
      chunkSizeBytes: MiB,
      retryDelaysMs: TINY_DELAYS,
      resumeUrl: uploadUrl,
      onProgress: (sent) => progress.push(sent),
    });

    expect(result.uploadUrl).toBe(uploadUrl);
    expect(sentBefore).toBe(MiB);
    expect(tus.requests.map((request) => request.method)).toEqual(['HEAD', 'PATCH', 'PATCH']);
    expect(sum(tus.requests, 'PATCH')).toBe(2 * MiB);
    expect(progress).toEqual([2 * MiB, 3 * MiB]);
    expect(sha256(await tus.stored(uploadUrl))).toBe(sha256(source));
  });

  it('refuses a resumeUrl whose upload has another length, before sending a byte', async () => {
    const tus = await startTus();
    const earlier = await uploadResumable({ url: tus.url, data: new Uint8Array(10), type: 'text/plain' });
    tus.requests.length = 0;

    const error = await failure(
      uploadResumable({ url: tus.url, data: new Uint8Array(20), type: 'text/plain', resumeUrl: earlier.uploadUrl }),
    );

    expect(error.code).toBe('INVALID_RESPONSE');
    expect(tus.requests.map((request) => request.method)).toEqual(['HEAD']);
  });

  it('throws a 4xx problem at once as an ApiClientError, without retrying', async () => {
    const problem = { type: 'about:blank', title: 'Unsupported media type', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' };
    const tus = await startTus({
      onUploadCreate: async () => {
        throw { status_code: 415, body: JSON.stringify(problem) };
      },
    });

    const error = await failure(
      uploadResumable({ url: tus.url, data: new Uint8Array(10), type: 'text/x-shellscript', retryDelaysMs: TINY_DELAYS }),
    );

    expect(error.status).toBe(415);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.operationId).toBe('upload');
    expect(error.problem).toEqual(problem);
    expect(tus.requests.map((request) => request.method)).toEqual(['POST']);
  });

  it('gives up with the last server error once the retry delays are used up', async () => {
    const tus = await startTus({
      onIncomingRequest: async (req) => {
        if (req.method === 'PATCH') throw { status_code: 503, body: 'busy' };
      },
    });

    const error = await failure(uploadResumable({ url: tus.url, data: new Uint8Array(10), type: 'text/plain', retryDelaysMs: [0, 0] }));

    expect(error.status).toBe(503);
    expect(error.code).toBe('HTTP_503');
    expect(tus.requests.map((request) => request.method)).toEqual(['POST', 'PATCH', 'HEAD', 'PATCH', 'HEAD', 'PATCH']);
  });

  it('stops waiting for a retry when the signal aborts', async () => {
    const tus = await startTus({
      onIncomingRequest: async (req) => {
        if (req.method === 'PATCH') throw { status_code: 503, body: 'busy' };
      },
    });
    const controller = new AbortController();

    const error = await failure(
      uploadResumable({
        url: tus.url,
        data: new Uint8Array(10),
        type: 'text/plain',
        retryDelaysMs: [60_000],
        signal: controller.signal,
        // Whether the abort lands while the 503 is read or during the 60 s wait, the caller must not wait.
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (response.status === 503) setTimeout(() => controller.abort(), 0);
          return response;
        },
      }),
    );

    expect(error.code).toBe('ABORTED');
    expect(tus.requests.map((request) => request.method)).toEqual(['POST', 'PATCH']);
  });

  it("resolves with the data of the final PATCH's 200 { data } answer", async () => {
    const tus = await startTus({
      onUploadFinish: async (_req, upload) => ({
        status_code: 200,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ data: { id: upload.id } }),
      }),
    });

    const result = await uploadResumable({ url: tus.url, data: new Uint8Array(3 * 1024), type: 'text/plain', chunkSizeBytes: 1024 });

    expect(result.data).toEqual({ id: result.uploadUrl.split('/').pop() });
  });
});
