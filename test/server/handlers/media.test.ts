import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { type Dancer, dancersOf } from '../../support/dancers';
import { openServerDatabase } from '../../support/database';

let database: Database;
let test: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  database = await openServerDatabase();
  test = await createTestApp(database, { MEDIA_QUOTA_BYTES: String(3 * MiB) });
});
afterAll(async () => {
  await test.close();
  await database.close();
});

const { dancers, dancer, as } = dancersOf(() => test);
const b64 = (text: string) => Buffer.from(text).toString('base64');
const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A JPEG with a GPS position and a camera in its EXIF, as a phone writes it. */
async function photoWithLocation(width = 800, height = 600): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 180, g: 40, b: 60 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'TangoPhone', Model: 'Milonga 3000' },
      IFD3: { GPSLatitudeRef: 'S', GPSLatitude: '34/1 36/1 1/1', GPSLongitudeRef: 'W', GPSLongitude: '58/1 22/1 1/1' },
    })
    .toBuffer();
}

/** An MP4's first box, then noise: `file-type` reads it as video/mp4 (videos are stored as sent). */
function video(bytes: number): Buffer {
  const ftyp = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');
  return Buffer.concat([ftyp, randomBytes(bytes - ftyp.length)]);
}

const uploads = (who: Dancer) => {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${who.token}`).set('Tus-Resumable', '1.0.0');
  return {
    create: (length: number, filetype: string, extra: Record<string, string> = {}) =>
      auth(request(test.app).post('/api/v1/uploads'))
        .set('Upload-Length', String(length))
        .set('Upload-Metadata', `filetype ${b64(filetype)},filename ${b64('noche.jpg')}`)
        .set(extra),
    append: (location: string, offset: number, bytes: Buffer) =>
      auth(request(test.app).patch(location))
        .set('Upload-Offset', String(offset))
        .set('Content-Type', 'application/offset+octet-stream')
        .send(bytes),
    status: (location: string) => auth(request(test.app).head(location)),
    cancel: (location: string) => auth(request(test.app).delete(location)),
  };
};

/** Uploads a whole file in one PATCH; answers the final response. */
async function upload(who: Dancer, bytes: Buffer, filetype: string) {
  const created = await uploads(who).create(bytes.length, filetype);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return uploads(who).append(created.headers.location!, 0, bytes);
}

async function uploaded(who: Dancer, bytes: Buffer, filetype = 'image/jpeg') {
  const res = await upload(who, bytes, filetype);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data as {
    id: string;
    url: string;
    thumbnailUrl: string | null;
    width: number;
    height: number;
    sizeBytes: number;
    type: string;
  };
}

const download = (who: Dancer | null, url: string) => {
  const r = request(test.app)
    .get(url)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
  return who ? r.set('Authorization', `Bearer ${who.token}`) : r;
};

const incoming = () => readdirSync(join(test.mediaDir, 'incoming'));

describe('uploading', () => {
  it('a photo is re-encoded without its EXIF (location included), upright, with a thumbnail', async () => {
    const me = await dancer();
    const original = await photoWithLocation(800, 600);
    expect((await sharp(original).metadata()).exif).toBeDefined();

    const media = await uploaded(me, original);
    expect(media).toMatchObject({ type: 'image/jpeg', width: 800, height: 600, url: `/api/v1/media/${media.id}/file` });

    const file = await download(me, media.url);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('image/jpeg');
    const stored = await sharp(file.body as Buffer).metadata();
    expect(stored.exif).toBeUndefined();
    expect((file.body as Buffer).includes(Buffer.from('TangoPhone'))).toBe(false);
    expect(stored).toMatchObject({ format: 'jpeg', width: 800, height: 600 });

    const thumbnail = await download(me, media.thumbnailUrl!);
    expect(thumbnail.headers['content-type']).toBe('image/webp');
    expect(await sharp(thumbnail.body as Buffer).metadata()).toMatchObject({ format: 'webp', width: 320, height: 240 });
    // Nothing of the upload is left in the incoming directory.
    expect(incoming()).toEqual([]);
  });

  it('resumes after a partial PATCH: HEAD tells the offset, and the video is stored byte for byte', async () => {
    const me = await dancer();
    const bytes = video(256 * 1024);
    const client = uploads(me);
    const created = await client.create(bytes.length, 'video/mp4');
    const location = created.headers.location!;
    expect(location).toMatch(/^\/api\/v1\/uploads\/[0-9a-f-]{36}$/);
    expect((await client.append(location, 0, bytes.subarray(0, 100_000))).status).toBe(204);

    const status = await client.status(location);
    expect(status.status).toBe(200);
    expect(status.headers['upload-offset']).toBe('100000');
    expect(status.headers['upload-length']).toBe(String(bytes.length));
    // Continuing at the wrong offset is refused, and changes nothing.
    const wrong = await client.append(location, 50_000, bytes.subarray(50_000));
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatchObject({ code: 'UPLOAD_OFFSET_CONFLICT' });

    const done = await client.append(location, 100_000, bytes.subarray(100_000));
    expect(done.status).toBe(200);
    const media = done.body.data as { url: string; thumbnailUrl: null; type: string; sizeBytes: number };
    expect(media).toMatchObject({ type: 'video/mp4', sizeBytes: bytes.length, thumbnailUrl: null });
    expect(sha256((await download(me, media.url)).body as Buffer)).toBe(sha256(bytes));
  });

  it('refuses what the bytes give away: a PNG claimed as a video, a text file claimed as a photo, a truncated photo', async () => {
    const me = await dancer();
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: 'blue' } })
      .png()
      .toBuffer();
    const lie = await upload(me, png, 'video/mp4');
    expect(lie.status).toBe(200);
    expect(lie.body.data.type).toBe('image/png');

    const text = await upload(me, Buffer.from('<?php echo "hola"; ?>'.repeat(20)), 'image/jpeg');
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(text.headers['content-type']).toMatch(/^application\/problem\+json/);

    const photo = await photoWithLocation();
    const truncated = await upload(me, photo.subarray(0, Math.floor(photo.length / 2)), 'image/jpeg');
    expect(truncated.status).toBe(422);
    expect(truncated.body).toMatchObject({ code: 'INVALID_MEDIA' });

    // Neither left anything behind: not in the list, not on disk.
    const mine = await as(me).get('/media');
    expect(mine.body.data.map((m: { type: string }) => m.type)).toEqual(['image/png']);
    expect(incoming()).toEqual([]);
    expect(readdirSync(join(test.mediaDir, 'files')).filter((name) => name.startsWith(lie.body.data.id))).toHaveLength(2);
  });

  it('refuses a claimed type it does not take, a size over the type’s limit, a length it was not told, and bytes past the length', async () => {
    const me = await dancer();
    const client = uploads(me);
    expect((await client.create(100, 'application/pdf')).body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const big = await client.create(21 * 1024 * 1024, 'image/jpeg');
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const deferred = await request(test.app)
      .post('/api/v1/uploads')
      .set('Authorization', `Bearer ${me.token}`)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Defer-Length', '1')
      .set('Upload-Metadata', `filetype ${b64('image/jpeg')}`);
    expect(deferred.status).toBe(400);
    expect(deferred.body).toMatchObject({ code: 'VALIDATION_FAILED' });

    const created = await client.create(1000, 'video/mp4');
    const over = await client.append(created.headers.location!, 0, video(1500));
    expect(over.status).toBe(413);
    expect(over.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await client.status(created.headers.location!)).headers['upload-offset']).toBe('0');
    expect((await client.cancel(created.headers.location!)).status).toBe(204);
  });

  it('answers protocol mistakes and strangers with problems: no token, no Tus-Resumable, someone else’s upload', async () => {
    const [me, other] = await dancers(2);
    const created = await uploads(me).create(1000, 'video/mp4');
    const location = created.headers.location!;

    const anonymous = await request(test.app).post('/api/v1/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', '10');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 'UNAUTHENTICATED' });

    const noVersion = await request(test.app).head(location).set('Authorization', `Bearer ${me.token}`);
    expect(noVersion.status).toBe(412);

    for (const res of [await uploads(other).status(location), await uploads(other).append(location, 0, video(1000))]) {
      expect(res.status).toBe(404);
    }
    expect((await uploads(other).cancel(location)).body).toMatchObject({ code: 'NOT_FOUND' });
    expect((await uploads(me).cancel(location)).status).toBe(204);
    expect((await uploads(me).status(location)).status).toBe(404);
  });

  it('counts stored media and unfinished uploads against the quota, until an upload ends', async () => {
    const me = await dancer();
    // The quota of this app is 3 MiB.
    expect((await uploads(me).create(4 * MiB, 'video/mp4')).body).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    const first = await uploads(me).create(2 * MiB, 'video/mp4');
    // The first upload's 2 MiB are taken while it runs: a second of 2 MiB does not fit.
    expect((await uploads(me).create(2 * MiB, 'video/mp4')).body).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect((await as(me).get('/media/quota')).body.data).toEqual({ usedBytes: 2 * MiB, limitBytes: 3 * MiB });
    expect((await uploads(me).cancel(first.headers.location!)).status).toBe(204);
    expect((await as(me).get('/media/quota')).body.data).toEqual({ usedBytes: 0, limitBytes: 3 * MiB });

    const kept = await uploads(me).create(2 * MiB, 'video/mp4');
    expect((await uploads(me).append(kept.headers.location!, 0, video(2 * MiB))).status).toBe(200);
    expect((await as(me).get('/media/quota')).body.data).toEqual({ usedBytes: 2 * MiB, limitBytes: 3 * MiB });
    const refused = await upload(me, Buffer.from('not a video at all'), 'video/mp4');
    expect(refused.status).toBe(415);
    expect((await as(me).get('/media/quota')).body.data).toEqual({ usedBytes: 2 * MiB, limitBytes: 3 * MiB });
  });

  it('finishes an upload once when two requests reach its end together', async () => {
    const me = await dancer();
    const photo = await photoWithLocation(2400, 1600);
    const created = await uploads(me).create(photo.length, 'image/jpeg');
    const location = created.headers.location!;
    const [whole, empty] = await Promise.all([
      uploads(me).append(location, 0, photo),
      // Sent once the bytes are in: an empty PATCH at the upload's length reaches its end again.
      (async () => {
        for (let i = 0; i < 200; i++) {
          const res = await uploads(me).append(location, photo.length, Buffer.alloc(0));
          if (res.status !== 409 || res.body.code !== 'UPLOAD_OFFSET_CONFLICT') return res;
        }
        throw new Error('the upload never reached its end');
      })(),
    ]);
    expect(whole.status).toBe(200);
    expect([404, 409]).toContain(empty.status);
    expect((await download(me, whole.body.data.url)).status).toBe(200);
    expect((await as(me).get('/media')).body.data).toHaveLength(1);
  });

  it('takes a whole file in the creation request (creation-with-upload), and scales huge photos down', async () => {
    const me = await dancer();
    const photo = await photoWithLocation(4200, 300);
    const res = await request(test.app)
      .post('/api/v1/uploads')
      .set('Authorization', `Bearer ${me.token}`)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Length', String(photo.length))
      .set('Upload-Metadata', `filetype ${b64('image/jpeg')}`)
      .set('Content-Type', 'application/offset+octet-stream')
      .send(photo);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ width: 4096, height: 293 });
    expect(incoming()).toEqual([]);
  });

  it('answers protocol mistakes with the API’s problems', async () => {
    const me = await dancer();
    const created = await uploads(me).create(1000, 'video/mp4');
    const location = created.headers.location!;
    const auth = { Authorization: `Bearer ${me.token}` };
    const oldVersion = await request(test.app).head(location).set(auth).set('Tus-Resumable', '0.2.2');
    expect(oldVersion.status).toBe(412);
    expect(oldVersion.headers['tus-version']).toBe('1.0.0');
    const text = await request(test.app)
      .patch(location)
      .set(auth)
      .set('Tus-Resumable', '1.0.0')
      .set('Upload-Offset', '0')
      .set('Content-Type', 'text/plain')
      .send('hola');
    expect(text.status).toBe(415);
    const wrongMethod = await request(test.app).patch('/api/v1/uploads').set(auth).set('Tus-Resumable', '1.0.0');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST, OPTIONS');
    expect((await request(test.app).post(location).set(auth).set('Tus-Resumable', '1.0.0')).headers.allow).toBe(
      'HEAD, PATCH, DELETE, OPTIONS',
    );
    const badId = await request(test.app).delete('/api/v1/uploads/%ZZ').set(auth).set('Tus-Resumable', '1.0.0');
    expect(badId.status).toBe(404);
    expect(badId.body).toMatchObject({ code: 'NOT_FOUND' });
    const longMetadata = await uploads(me).create(1000, 'video/mp4', {
      'Upload-Metadata': `filetype ${b64('video/mp4')},x ${'A'.repeat(3000)}`,
    });
    expect(longMetadata.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    const concat = await uploads(me).create(1000, 'video/mp4', { 'Upload-Concat': 'partial' });
    expect(concat.status).toBe(400);
    const status = await uploads(me).status(location);
    expect(status.headers['upload-metadata']).toMatch(/^filetype [^,]+,filename [^,]+,owner [^,]+$/);
  });
});

describe('who sees media', () => {
  it('only its owner until something shows it; then whoever may see that, with public or private caching', async () => {
    const [me, friend, stranger] = await dancers(3);
    await as(me).put(`/friend-requests/${friend.id}`);
    await as(friend).post(`/friend-requests/${me.id}/accept`);
    const forFriends = await uploaded(me, await photoWithLocation(40, 30));
    const forAll = await uploaded(me, await photoWithLocation(40, 30));

    for (const who of [friend, stranger, null]) expect((await download(who, forFriends.url)).status).toBe(404);
    expect((await as(stranger).get(`/media/${forFriends.id}`)).status).toBe(404);

    const post = await as(me).post('/posts', { body: 'Anoche', visibility: 'friends', mediaIds: [forFriends.id] });
    expect(post.status).toBe(201);
    expect(post.body.data.media.map((m: { id: string }) => m.id)).toEqual([forFriends.id]);
    const seen = await download(friend, forFriends.url);
    expect(seen.status).toBe(200);
    expect(seen.headers['cache-control']).toBe('private, no-cache');
    expect((await download(stranger, forFriends.url)).status).toBe(404);

    await as(me).post('/posts', { body: 'Para todos', visibility: 'public', mediaIds: [forAll.id] });
    const open = await download(null, forAll.url);
    expect(open.status).toBe(200);
    expect(open.headers['cache-control']).toBe('public, no-cache');
    expect(open.headers['cross-origin-resource-policy']).toBe('cross-origin');

    expect((await as(me).put(`/blocks/${stranger.id}`)).status).toBe(204);
    expect((await download(stranger, forAll.url)).status).toBe(404);
  });

  it('a post, memory or story may show only its author’s own uploads', async () => {
    const [me, other] = await dancers(2);
    const theirs = await uploaded(other, await photoWithLocation(40, 30));
    const post = await as(me).post('/posts', { body: 'Robada', visibility: 'public', mediaIds: [theirs.id] });
    expect(post.status).toBe(400);
    expect(post.body.errors).toEqual([expect.objectContaining({ path: '/body/mediaIds/0', code: 'unknown_media' })]);
    const story = await as(me).post('/stories', { caption: 'Robada', mediaId: theirs.id });
    expect(story.body.errors).toEqual([expect.objectContaining({ path: '/body/mediaId' })]);
    const memory = await as(me).post('/memories', { title: 'x', happenedOn: '2020-01-01', visibility: 'public', mediaIds: [theirs.id] });
    expect(memory.status).toBe(400);

    const mine = await uploaded(me, await photoWithLocation(40, 30));
    const kept = await as(me).post('/memories', { title: 'Canning', happenedOn: '2020-01-01', visibility: 'private', mediaIds: [mine.id] });
    expect(kept.body.data.media).toEqual([expect.objectContaining({ id: mine.id })]);
    const shown = await as(me).post('/stories', { caption: 'Hoy', mediaId: mine.id });
    expect(shown.body.data.media).toMatchObject({ id: mine.id });
    await as(me).put(`/users/${other.id}/follow`);
    await as(other).put(`/users/${me.id}/follow`);
    // A follower sees the story's photo; the private memory does not open it to anyone else.
    expect((await download(other, mine.url)).status).toBe(200);
  });

  it('an avatar is one of my images, seen by anyone who may see my profile', async () => {
    const [me, other] = await dancers(2);
    const photo = await uploaded(me, await photoWithLocation(64, 64));
    const clip = await uploaded(me, video(1000), 'video/mp4');
    const theirs = await uploaded(other, await photoWithLocation(64, 64));
    for (const id of [clip.id, theirs.id]) {
      const refused = await as(me).patch('/users/me', { avatarMediaId: id });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ path: '/body/avatarMediaId', code: 'unknown_media' })]);
    }
    expect((await download(null, photo.url)).status).toBe(404);
    const updated = await as(me).patch('/users/me', { avatarMediaId: photo.id });
    expect(updated.body.data.avatarMediaId).toBe(photo.id);
    expect((await as(null).get(`/users/${me.id}`)).body.data.avatarMediaId).toBe(photo.id);
    expect((await download(null, photo.url)).headers['cache-control']).toBe('public, no-cache');
    expect((await as(me).put(`/blocks/${other.id}`)).status).toBe(204);
    expect((await download(other, photo.url)).status).toBe(404);
    // Cleared, it is the owner's alone again.
    await as(me).patch('/users/me', { avatarMediaId: null });
    expect((await download(null, photo.url)).status).toBe(404);
  });
});

describe('files', () => {
  it('serves ranges and revalidation', async () => {
    const me = await dancer();
    const bytes = video(10_000);
    const media = await uploaded(me, bytes, 'video/mp4');
    const part = await download(me, media.url).set('Range', 'bytes=100-199');
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${bytes.length}`);
    expect(part.body).toEqual(bytes.subarray(100, 200));
    const whole = await download(me, media.url);
    const again = await download(me, media.url).set('If-None-Match', whole.headers.etag!);
    expect(again.status).toBe(304);
    const beyond = await download(me, media.url).set('Range', `bytes=${bytes.length + 10}-`);
    expect(beyond.status).toBe(416);
  });

  it('deletes media nothing shows a day after upload, and keeps what a post shows', async () => {
    const me = await dancer();
    const unused = await uploaded(me, video(1000), 'video/mp4');
    const shown = await uploaded(me, video(1000), 'video/mp4');
    await as(me).post('/posts', { body: 'Con video', visibility: 'public', mediaIds: [shown.id] });
    expect((await as(me).delete(`/media/${shown.id}`)).body).toMatchObject({ code: 'MEDIA_IN_USE' });
    await database.db.execute(sql`UPDATE media SET created_at = now() - interval '25 hours' WHERE id IN (${unused.id}, ${shown.id})`);

    expect(await test.services.media.deleteUnreferenced()).toBeGreaterThanOrEqual(1);
    expect((await download(me, unused.url)).status).toBe(404);
    expect((await download(me, shown.url)).status).toBe(200);
    expect(readdirSync(join(test.mediaDir, 'files')).some((name) => name.startsWith(unused.id))).toBe(false);
  });
});
