import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3Store } from '@tus/s3-store';
import { Server } from '@tus/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeS3, startFakeS3 } from '../../support/fake-s3';

const MiB = 1024 * 1024;

let s3: FakeS3;
let client: S3Client;

// Each describe has a fake of its own, so that its keys() are only its own.
async function startS3(): Promise<void> {
  s3 = await startFakeS3();
  client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials });
}

async function stopS3(): Promise<void> {
  client.destroy();
  await s3.close();
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The S3 error a command fails with: its name (from `<Code>`) and HTTP status. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const error = await promise.then(
    () => expect.fail('the command succeeded'),
    (error: { name: string; $metadata?: { httpStatusCode?: number } }) => error,
  );
  return { name: error.name, status: error.$metadata?.httpStatusCode };
}

describe('startFakeS3 with a plain S3Client', () => {
  beforeAll(startS3);
  afterAll(stopS3);

  it('stores a streamed PutObject (aws-chunked, CRC32 trailer) and serves it back with its type, metadata and ETag', async () => {
    const source = randomBytes(3 * MiB + 17);
    const key = 'dir/a key+with é';
    const put = await client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: key,
        // Several chunks of a stream: the SDK frames them with aws-chunked and a checksum trailer.
        Body: Readable.from([source.subarray(0, MiB), source.subarray(MiB)]),
        ContentLength: source.length,
        ContentType: 'video/mp4',
        Metadata: { owner: 'dancer-1' },
      }),
    );
    expect(put.ETag).toBe(`"${createHash('md5').update(source).digest('hex')}"`);

    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(source));
    expect(got).toMatchObject({ ContentType: 'video/mp4', ContentLength: source.length, ETag: put.ETag, Metadata: { owner: 'dancer-1' } });

    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(head).toMatchObject({ ContentType: 'video/mp4', ContentLength: source.length, ETag: put.ETag, Metadata: { owner: 'dancer-1' } });
    expect(head.LastModified).toBeInstanceOf(Date);
    expect(s3.keys()).toContain(key);
  });

  it('serves byte ranges with 206 and Content-Range, and answers If-None-Match with 304', async () => {
    const source = randomBytes(1000);
    const { ETag } = await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'range', Body: source }));
    const middle = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'range', Range: 'bytes=100-299' }));
    expect(middle.$metadata.httpStatusCode).toBe(206);
    expect(middle.ContentRange).toBe('bytes 100-299/1000');
    expect(Buffer.from(await middle.Body!.transformToByteArray())).toEqual(source.subarray(100, 300));
    const tail = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'range', Range: 'bytes=-10' }));
    expect(Buffer.from(await tail.Body!.transformToByteArray())).toEqual(source.subarray(990));
    expect(await failure(client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'range', Range: 'bytes=1000-' })))).toEqual({
      name: 'InvalidRange',
      status: 416,
    });
    const unchanged = await failure(client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'range', IfNoneMatch: ETag })));
    expect(unchanged.status).toBe(304);
    expect(await failure(client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'range', IfMatch: '"other"' })))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
  });

  it('answers missing keys with NoSuchKey, or NotFound for HEAD, and deletes one or many objects', async () => {
    const keys = ['gone/1', 'gone/2 & <3>', "gone/'quoted'"];
    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: key }));
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: keys[0] }));
    expect(await failure(client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: keys[0] })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(await failure(client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: keys[0] })))).toEqual({
      name: 'NotFound',
      status: 404,
    });

    const deleted = await client.send(
      new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys.slice(1).map((Key) => ({ Key })) } }),
    );
    expect(deleted.Deleted?.map((entry) => entry.Key)).toEqual(keys.slice(1));
    expect(s3.keys().filter((key) => key.startsWith('gone/'))).toEqual([]);
  });

  it('refuses a body whose checksum does not match', async () => {
    const wrong = new PutObjectCommand({ Bucket: s3.bucket, Key: 'corrupt', Body: 'payload', ChecksumCRC32: 'AAAAAA==' });
    expect(await failure(client.send(wrong))).toEqual({ name: 'BadDigest', status: 400 });
    expect(s3.keys()).not.toContain('corrupt');
  });

  it('runs a multipart upload: parts listed page by page, the usual multipart ETag, S3 refusals', async () => {
    const Key = 'multipart';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key, ContentType: 'image/png' }));
    const bodies = [randomBytes(5 * MiB), randomBytes(1234)];
    const etags: string[] = [];
    for (const [i, Body] of bodies.entries()) {
      const part = await client.send(new UploadPartCommand({ Bucket: s3.bucket, Key, UploadId, PartNumber: i + 1, Body }));
      etags.push(part.ETag!);
    }
    const first = await client.send(new ListPartsCommand({ Bucket: s3.bucket, Key, UploadId, MaxParts: 1 }));
    expect(first).toMatchObject({
      IsTruncated: true,
      NextPartNumberMarker: '1',
      Parts: [{ PartNumber: 1, Size: 5 * MiB, ETag: etags[0] }],
    });
    const second = await client.send(new ListPartsCommand({ Bucket: s3.bucket, Key, UploadId, PartNumberMarker: '1' }));
    expect(second).toMatchObject({ IsTruncated: false, Parts: [{ PartNumber: 2, Size: 1234, ETag: etags[1] }] });

    const parts = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
    const complete = (Parts: typeof parts) =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: s3.bucket, Key, UploadId, MultipartUpload: { Parts } }));
    expect(await failure(complete(parts.toReversed()))).toEqual({ name: 'InvalidPartOrder', status: 400 });
    expect(await failure(complete([{ ...parts[0]!, ETag: '"0"' }, parts[1]!]))).toEqual({ name: 'InvalidPart', status: 400 });
    const done = await complete(parts);
    const md5s = Buffer.concat(bodies.map((body) => createHash('md5').update(body).digest()));
    expect(done.ETag).toBe(`"${createHash('md5').update(md5s).digest('hex')}-2"`);

    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key }));
    expect(got.ContentType).toBe('image/png');
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(Buffer.concat(bodies)));
    expect(await failure(client.send(new ListPartsCommand({ Bucket: s3.bucket, Key, UploadId })))).toEqual({
      name: 'NoSuchUpload',
      status: 404,
    });
    const never = new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key, UploadId: 'never-created' });
    expect(await failure(client.send(never))).toEqual({ name: 'NoSuchUpload', status: 404 });

    const small = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'small' }));
    const tiny = [];
    for (const PartNumber of [1, 2]) {
      const part = await client.send(
        new UploadPartCommand({ Bucket: s3.bucket, Key: 'small', UploadId: small.UploadId, PartNumber, Body: 'x' }),
      );
      tiny.push({ ETag: part.ETag, PartNumber });
    }
    const tooSmall = new CompleteMultipartUploadCommand({
      Bucket: s3.bucket,
      Key: 'small',
      UploadId: small.UploadId,
      MultipartUpload: { Parts: tiny },
    });
    expect(await failure(client.send(tooSmall))).toEqual({ name: 'EntityTooSmall', status: 400 });
    await client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: 'small', UploadId: small.UploadId }));
    expect(s3.keys()).not.toContain('small');
  });
});

describe('startFakeS3 behind @tus/s3-store', () => {
  let tus: HttpServer;
  let store: S3Store;
  let base: string;

  beforeAll(async () => {
    await startS3();
    store = new S3Store({
      partSize: 5 * MiB,
      s3ClientConfig: { bucket: s3.bucket, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials },
    });
    const server = new Server({ path: '/files', datastore: store, relativeLocation: true });
    tus = createServer((req, res) => void server.handle(req, res));
    await new Promise<void>((resolve) => tus.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(tus.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    tus.closeAllConnections();
    await new Promise((resolve) => tus.close(resolve));
    await stopS3();
  });

  it('takes a 12 MiB upload in two PATCHes, then reads and removes it', async () => {
    const source = randomBytes(12 * MiB);
    const tusHeaders = { 'tus-resumable': '1.0.0' };
    const created = await fetch(`${base}/files`, {
      method: 'POST',
      headers: { ...tusHeaders, 'upload-length': String(source.length), 'upload-metadata': `contentType ${btoa('video/mp4')}` },
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    const id = location.split('/').pop()!;
    const patch = (offset: number, end: number) =>
      fetch(`${base}${location}`, {
        method: 'PATCH',
        headers: { ...tusHeaders, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
        body: source.subarray(offset, end),
      });

    const firstPatch = await patch(0, 7 * MiB);
    expect(firstPatch.status).toBe(204);
    expect(firstPatch.headers.get('upload-offset')).toBe(String(7 * MiB));
    // One 5 MiB part went to the multipart upload; the 2 MiB left over wait in an object of their own.
    expect(s3.keys()).toEqual(expect.arrayContaining([`${id}.info`, `${id}.part`]));
    const head = await fetch(`${base}${location}`, { method: 'HEAD', headers: tusHeaders });
    expect(head.headers.get('upload-offset')).toBe(String(7 * MiB));

    const lastPatch = await patch(7 * MiB, source.length);
    expect(lastPatch.status).toBe(204);
    expect(lastPatch.headers.get('upload-offset')).toBe(String(source.length));
    const finished = await fetch(`${base}${location}`, { method: 'HEAD', headers: tusHeaders });
    expect(finished.headers.get('upload-offset')).toBe(String(source.length));

    const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: id }));
    expect(object.ContentType).toBe('video/mp4');
    expect(object.ETag).toMatch(/-3"$/);
    expect(sha256(await object.Body!.transformToByteArray())).toBe(sha256(source));
    expect(sha256(await collect(await store.read(id)))).toBe(sha256(source));
    expect(s3.keys()).not.toContain(`${id}.part`);

    await store.remove(id);
    expect(s3.keys()).toEqual([]);
  });
});
