import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createClient, type ApiClient, type UploadMediaResult } from '../../generated/client';
import { serve, type Running } from '../../runtime/server';
import type { Database } from '../../server/db/database';
import { captureLog, createTestApp } from '../support/app';
import { cuttingProxy } from '../support/cutting-proxy';
import { openServerDatabase } from '../support/database';

/** The generated client's upload method against a real server, through a network that drops. */
let database: Database;
let running: Running;
let token: string;
const closers: (() => Promise<void>)[] = [];

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** An MP4's first box, then noise: stored as sent, so its bytes can be compared. */
function video(bytes: number): Uint8Array {
  const ftyp = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');
  return new Uint8Array(Buffer.concat([ftyp, randomBytes(bytes - ftyp.length)]));
}

beforeAll(async () => {
  database = await openServerDatabase();
  const test = await createTestApp(database);
  running = await serve(test.app, { port: 0, host: '127.0.0.1', log: captureLog().log });
  const user = await test.services.userStore.create({ username: 'uploader', displayName: 'Uploader', passwordHash: 'not-a-real-hash' });
  if (user === 'taken') throw new Error('username taken');
  token = await test.token(user.id);
});
afterAll(async () => {
  for (const close of closers) await close();
  await running.shutdown();
  await database.close();
});

const clientAt = (baseUrl: string): ApiClient => createClient({ baseUrl, tokens: { getAccessToken: () => token } });

describe('generated client uploads', () => {
  it('resumes an upload cut in the middle of a chunk, and the stored file has the exact bytes', async () => {
    const proxy = await cuttingProxy(Number(new URL(running.url).port), 1.5 * MiB);
    closers.push(proxy.close);
    const api = clientAt(`http://127.0.0.1:${proxy.port}`);
    const bytes = video(3 * MiB);
    const progress: number[] = [];
    let uploadUrl: string | undefined;

    const media = await api.media.uploadMedia({
      data: bytes,
      type: 'video/mp4',
      name: 'vals.mp4',
      chunkSizeBytes: 2 * MiB,
      retryDelaysMs: [0, 10, 10],
      onCreated: (url) => {
        uploadUrl = url;
      },
      onProgress: (sent) => progress.push(sent),
    });
    expectTypeOf(media).toEqualTypeOf<UploadMediaResult>();
    expect(media).toMatchObject({ kind: 'video', type: 'video/mp4', sizeBytes: bytes.length });
    expect(uploadUrl).toContain(`/api/v1/uploads/${media.id}`);
    // The first 2 MiB chunk was cut at 1.5 MiB; the next PATCH went on from what the server had
    // kept (not from 0, which would acknowledge 2 MiB first) to the end.
    expect(progress).toEqual([bytes.length]);

    const file = await clientAt(running.url).media.downloadMedia({ params: { mediaId: media.id } });
    expectTypeOf(file).toEqualTypeOf<Blob>();
    expect(file.type).toBe('video/mp4');
    expect(sha256(new Uint8Array(await file.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('reports a refused upload as the API’s problem, typed by the upload’s codes', async () => {
    const api = clientAt(running.url);
    const error = await api.media
      .uploadMedia({ data: new TextEncoder().encode('not a photo at all'), type: 'image/jpeg' })
      .catch((e: unknown) => e);
    expect(api.media.uploadMedia.isError(error)).toBe(true);
    expect(error).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });
});
