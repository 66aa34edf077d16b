import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import type { DataStore, Upload } from '@tus/utils';
import type { UploadContract } from '../contract';

/** Where uploads are kept while they run: a directory, or an S3-compatible bucket. */
export type UploadStorage =
  | { readonly kind: 'disk'; readonly directory: string }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** An S3-compatible service's URL; AWS's own when absent. */
      readonly endpoint?: string;
      readonly region: string;
      /** The SDK's default chain (environment, instance role) when absent. */
      readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
      /** Path-style URLs (`endpoint/bucket/key`), as most S3-compatible services want. */
      readonly forcePathStyle?: boolean;
      /** Where a finished upload is copied to be checked and processed on this machine. */
      readonly scratch: string;
    };

/** A tus data store, and how the finishing step gets a whole upload as a file on this machine. */
export interface UploadStore {
  readonly datastore: DataStore;
  /** The upload's bytes as a local file. */
  local(upload: Upload): Promise<string>;
  /** Throws the upload away, with its local file if one was made. */
  discard(upload: Upload): Promise<void>;
}

/** S3 multipart parts: 5 MiB is S3's smallest. */
const PART_BYTES = 8 * 1024 * 1024;

/** The store of an upload contract's uploads; unfinished ones expire after the contract's `expiresAfterSeconds`. */
export async function openUploadStore(contract: UploadContract, storage: UploadStorage): Promise<UploadStore> {
  const expiresAfterMs = contract.expiresAfterSeconds * 1000;
  if (storage.kind === 'disk') {
    const datastore = new FileStore({ directory: storage.directory, expirationPeriodInMilliseconds: expiresAfterMs });
    const local = async (upload: Upload) => upload.storage?.path ?? join(storage.directory, upload.id);
    return {
      datastore,
      local,
      // FileStore keeps an upload as its bytes and `<id>.json`; either may be gone already.
      async discard(upload) {
        const file = await local(upload);
        await Promise.all([rm(file, { force: true }), rm(`${file}.json`, { force: true })]);
      },
    };
  }
  // Loaded only in this mode: the AWS SDK is large, and a disk deployment never needs it.
  const [{ S3Store }, { S3 }] = await Promise.all([import('@tus/s3-store'), import('@aws-sdk/client-s3')]);
  const { scratch, kind: _, ...client } = storage;
  await mkdir(scratch, { recursive: true });
  const datastore = new S3Store({ partSize: PART_BYTES, expirationPeriodInMilliseconds: expiresAfterMs, s3ClientConfig: client });
  const s3 = new S3(client);
  return {
    datastore,
    async local(upload) {
      const file = join(scratch, upload.id);
      await pipeline(await datastore.read(upload.id), createWriteStream(file));
      return file;
    },
    async discard(upload) {
      await rm(join(scratch, upload.id), { force: true });
      // tus aborts the upload's multipart upload first, and gives up when the service says it is
      // gone (as AWS may, for one completed): the objects are then deleted here, whatever it did.
      await datastore.remove(upload.id).catch(() => {});
      const keys = [upload.id, `${upload.id}.info`, `${upload.id}.part`];
      await s3.deleteObjects({ Bucket: client.bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } });
    },
  };
}
