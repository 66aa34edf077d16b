import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';
import { openServerDatabase } from '../../support/database';
import { type FakeS3, startFakeS3 } from '../../support/fake-s3';

/**
 * The S3 storage mode (S3_BUCKET): unfinished uploads are tus's objects in the bucket
 * (@tus/s3-store), media files objects under `media/`. No S3-compatible server can run here, so the
 * bucket is test/support/fake-s3.ts, speaking S3's HTTP API to the real AWS SDK.
 */
let s3: FakeS3;
let database: Database;
let test: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  s3 = await startFakeS3({ bucket: 'mundo-media' });
  database = await openServerDatabase();
  test = await createTestApp(database, {
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  });
});
afterAll(async () => {
  await test.close();
  await database.close();
  await s3.close();
});

const { dancer } = dancersOf(() => test);
const b64 = (text: string) => Buffer.from(text).toString('base64');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const MiB = 1024 * 1024;

function video(bytes: number): Buffer {
  const ftyp = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');
  return Buffer.concat([ftyp, randomBytes(bytes - ftyp.length)]);
}

const tus = (who: Dancer, r: request.Test) => r.set('Authorization', `Bearer ${who.token}`).set('Tus-Resumable', '1.0.0');
const create = (who: Dancer, length: number, filetype: string) =>
  tus(who, request(test.app).post('/api/v1/uploads'))
    .set('Upload-Length', String(length))
    .set('Upload-Metadata', `filetype ${b64(filetype)}`);
const append = (who: Dancer, location: string, offset: number, bytes: Buffer) =>
  tus(who, request(test.app).patch(location))
    .set('Upload-Offset', String(offset))
    .set('Content-Type', 'application/offset+octet-stream')
    .send(bytes);
const download = (who: Dancer, url: string) =>
  request(test.app)
    .get(url)
    .set('Authorization', `Bearer ${who.token}`)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });

/** Drops this instance's local copies: the next read must come from the bucket. */
const forgetLocalCopies = () => rmSync(join(test.mediaDir, 'cache'), { recursive: true, force: true });

describe('media in an S3 bucket', () => {
  it('keeps a resumed upload in the bucket, then its file under media/, and serves it byte for byte from there', async () => {
    const me = await dancer();
    const bytes = video(6 * MiB);
    const created = await create(me, bytes.length, 'video/mp4');
    expect(created.status).toBe(201);
    const location = created.headers.location!;
    const id = location.split('/').pop()!;
    expect((await append(me, location, 0, bytes.subarray(0, 2 * MiB))).status).toBe(204);
    // While it runs, the upload is tus's, in the bucket.
    expect(s3.keys()).toEqual(expect.arrayContaining([expect.stringContaining(id)]));
    const status = await tus(me, request(test.app).head(location));
    expect(status.headers['upload-offset']).toBe(String(2 * MiB));

    const done = await append(me, location, 2 * MiB, bytes.subarray(2 * MiB));
    expect(done.status).toBe(200);
    expect(s3.keys().filter((key) => key.includes(id))).toEqual([`media/${id}.mp4`]);

    forgetLocalCopies();
    const file = await download(me, done.body.data.url);
    expect(file.status).toBe(200);
    expect(sha256(file.body as Buffer)).toBe(sha256(bytes));
    const part = await download(me, done.body.data.url).set('Range', 'bytes=10-19');
    expect(part.status).toBe(206);
    expect(part.body).toEqual(bytes.subarray(10, 20));
  });

  it('stores a photo re-encoded, with its thumbnail, and leaves nothing of a refused upload', async () => {
    const me = await dancer();
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: 'red' } })
      .jpeg()
      .withExif({ IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '34/1 36/1 1/1' } })
      .toBuffer();
    const created = await create(me, photo.length, 'image/jpeg');
    const done = await append(me, created.headers.location!, 0, photo);
    expect(done.status).toBe(200);
    const { id, url, thumbnailUrl } = done.body.data as { id: string; url: string; thumbnailUrl: string };
    expect(
      s3
        .keys()
        .filter((key) => key.includes(id))
        .sort(),
    ).toEqual([`media/${id}.jpg`, `media/${id}.thumb.webp`]);
    forgetLocalCopies();
    expect((await sharp((await download(me, url)).body as Buffer).metadata()).exif).toBeUndefined();
    expect((await sharp((await download(me, thumbnailUrl)).body as Buffer).metadata()).format).toBe('webp');

    const lie = await create(me, 200, 'image/jpeg');
    const refusedId = lie.headers.location!.split('/').pop()!;
    const refused = await append(me, lie.headers.location!, 0, Buffer.alloc(200, 'x'));
    expect(refused.status).toBe(415);
    expect(s3.keys().filter((key) => key.includes(refusedId))).toEqual([]);
    expect(readdirSync(join(test.mediaDir, 'scratch'))).toEqual([]);
  });

  it('deletes a medium nothing shows from the bucket', async () => {
    const me = await dancer();
    const bytes = video(4096);
    const created = await create(me, bytes.length, 'video/mp4');
    const { id } = (await append(me, created.headers.location!, 0, bytes)).body.data as { id: string };
    await database.db.execute(sql`UPDATE media SET created_at = now() - interval '25 hours' WHERE id = ${id}`);
    expect(await test.services.media.deleteUnreferenced()).toBeGreaterThanOrEqual(1);
    expect(s3.keys().filter((key) => key.includes(id))).toEqual([]);
  });
});
