import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApiError } from '../../runtime/server';

/**
 * Where media files live: a directory, or an S3-compatible bucket. Either way a file is served
 * from this machine's disk (the runtime streams it with ranges and revalidation): from a bucket,
 * through a local copy made on first use. Names are a medium's id and never reused, so a copy is
 * never stale; a medium deleted on another instance is refused by the database before its copy is
 * looked at.
 */
export interface MediaFiles {
  /** Takes a finished local file into storage under `name`; the local file is gone afterwards. */
  put(name: string, local: string, type: string): Promise<void>;
  /** A local path to serve the file from. */
  path(name: string): Promise<string>;
  remove(names: readonly string[]): Promise<void>;
}

export function diskMediaFiles(directory: string): MediaFiles {
  mkdirSync(directory, { recursive: true });
  return {
    put: (name, local) => rename(local, join(directory, name)),
    path: async (name) => join(directory, name),
    async remove(names) {
      await Promise.all(names.map((name) => rm(join(directory, name), { force: true })));
    },
  };
}

export interface S3Location {
  bucket: string;
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle?: boolean;
}

const KEY_PREFIX = 'media/';

/** Files as objects under `media/` in a bucket, with a local copy of each file served here (`cacheDir`). */
export async function s3MediaFiles(location: S3Location, cacheDir: string): Promise<MediaFiles> {
  // Loaded only in this mode: the AWS SDK is large, and a disk deployment never needs it.
  const sdk = await import('@aws-sdk/client-s3');
  const { bucket, ...config } = location;
  const client: S3Client = new sdk.S3Client(config);
  const cached = (name: string) => join(cacheDir, name);

  return {
    async put(name, local, type) {
      const { size } = await stat(local);
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: KEY_PREFIX + name,
          Body: createReadStream(local),
          ContentLength: size,
          ContentType: type,
        }),
      );
      // The instance that stored a file is the likeliest to serve it next. (The copies are only
      // copies: an operator may empty the directory, or remove it, at any time.)
      await mkdir(cacheDir, { recursive: true });
      await rename(local, cached(name));
    },

    async path(name) {
      const copy = cached(name);
      if (await stat(copy).catch(() => undefined)) return copy;
      let object: { Body?: unknown };
      try {
        object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: KEY_PREFIX + name }));
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') throw new ApiError('NOT_FOUND', 'The file is gone');
        throw error;
      }
      // Written aside and renamed: a request reading meanwhile never sees half a file.
      const partial = `${copy}.part-${randomUUID()}`;
      await mkdir(cacheDir, { recursive: true });
      try {
        await pipeline(object.Body as NodeJS.ReadableStream, createWriteStream(partial));
        await rename(partial, copy);
      } finally {
        await rm(partial, { force: true });
      }
      return copy;
    },

    async remove(names) {
      if (names.length === 0) return;
      await client.send(
        new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: names.map((name) => ({ Key: KEY_PREFIX + name })) } }),
      );
      await Promise.all(names.map((name) => rm(cached(name), { force: true })));
    },
  };
}
