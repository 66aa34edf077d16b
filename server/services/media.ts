import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import sharp from 'sharp';
import type { FileResult } from '../../runtime/contract';
import { ApiError, fieldError, type FinishedUpload } from '../../runtime/server';
import type { MEDIA_TYPES } from '../../contracts/media';
import type { AppDb, Tx } from '../db/database';
import { before, toPage, type Page } from '../db/keyset';
import { sqlState } from '../db/errors';
import { media, mediaUploads, memories, memoryMedia, postMedia, posts, stories, users } from '../db/schema';
import type { MediaFiles } from './media-files';
import { memoryVisibleTo } from './memories';
import { postVisibleTo } from './posts';
import { blockedEitherWay } from './social';
import { live, storyVisibleTo } from './stories';

/**
 * Media: finished uploads. Images are decoded and re-encoded (so no metadata survives — EXIF
 * location included — and a truncated or forged file is refused), turned upright by their EXIF
 * orientation first, and get a WebP thumbnail; videos are kept as sent. Who may see a medium is
 * who may see something that shows it (a post, a memory, a live story, a profile), and always its
 * owner. A periodic job deletes media nothing shows a day after upload.
 */

export type MediaRecord = typeof media.$inferSelect;
type MediaTypeName = keyof typeof MEDIA_TYPES;

const THUMBNAIL_PX = 320;
/** Larger images are scaled down to this on their longer side: what any screen shows, a fraction of the bytes. */
const MAX_SIDE_PX = 4096;
/** Decoding is refused past this (a 9000 × 5500 photo): a small file may claim a huge bitmap. */
const MAX_INPUT_PIXELS = 50_000_000;
const MAX_OPEN_UPLOADS = 20;
const FORMATS = { 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/webp': 'webp' } as const;
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
};
const notFound = () => new ApiError('NOT_FOUND', 'No media with this id');

/** True when something the viewer (null: signed out) may see shows the medium in `media`. */
function shownTo(viewerId: string | null): SQL {
  const avatar = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.avatarMediaId} = ${media.id}${
    viewerId === null ? sql`` : sql` AND NOT ${blockedEitherWay(viewerId, users.id)}`
  })`;
  const post = sql`EXISTS (SELECT 1 FROM ${postMedia} JOIN ${posts} ON ${posts.id} = ${postMedia.postId}
    WHERE ${postMedia.mediaId} = ${media.id} AND ${postVisibleTo(viewerId)})`;
  const memory = sql`EXISTS (SELECT 1 FROM ${memoryMedia} JOIN ${memories} ON ${memories.id} = ${memoryMedia.memoryId}
    WHERE ${memoryMedia.mediaId} = ${media.id} AND ${memoryVisibleTo(viewerId)})`;
  if (viewerId === null) return sql`(${avatar} OR ${post} OR ${memory})`;
  const story = sql`EXISTS (SELECT 1 FROM ${stories} WHERE ${stories.mediaId} = ${media.id} AND ${live} AND ${storyVisibleTo(viewerId)})`;
  return sql`(${media.ownerId} = ${viewerId} OR ${avatar} OR ${post} OR ${memory} OR ${story})`;
}

const referenced = sql`(EXISTS (SELECT 1 FROM post_media r WHERE r.media_id = "media"."id")
  OR EXISTS (SELECT 1 FROM memory_media r WHERE r.media_id = "media"."id")
  OR EXISTS (SELECT 1 FROM stories r WHERE r.media_id = "media"."id")
  OR EXISTS (SELECT 1 FROM users r WHERE r.avatar_media_id = "media"."id"))`;

export function toWireMedia(row: MediaRecord) {
  const url = `/api/v1/media/${row.id}/file`;
  return {
    id: row.id,
    ownerId: row.ownerId,
    kind: row.kind,
    type: row.type as MediaTypeName,
    sizeBytes: row.sizeBytes,
    width: row.width,
    height: row.height,
    url,
    thumbnailUrl: row.thumbnailName ? `${url}?variant=thumbnail` : null,
    createdAt: row.createdAt.toISOString(),
  };
}

export type WireMedia = ReturnType<typeof toWireMedia>;

export function createMediaService(db: AppDb, options: { files: MediaFiles; workDir: string; quotaBytes: number }) {
  const { files } = options;
  // Where images are re-encoded (and videos wait) before they go to the files' storage.
  mkdirSync(options.workDir, { recursive: true });
  const work = (name: string) => join(options.workDir, name);

  /** What the owner's media take, and what their unfinished uploads will. */
  async function usage(executor: AppDb | Tx, ownerId: string) {
    const { rows } = await executor.execute<{ stored: string; reserved: string; open: number }>(sql`
      SELECT (SELECT coalesce(sum(size_bytes), 0) FROM media WHERE owner_id = ${ownerId}) AS stored,
        coalesce(sum(size_bytes), 0) AS reserved, count(*)::int AS open
      FROM media_uploads WHERE owner_id = ${ownerId}`);
    const row = rows[0]!;
    return { stored: Number(row.stored), reserved: Number(row.reserved), open: row.open };
  }

  function refuseOver(used: number, size: number): void {
    if (used + size > options.quotaBytes) {
      const free = Math.max(0, options.quotaBytes - used);
      throw new ApiError('QUOTA_EXCEEDED', `This needs ${size} bytes; ${free} of your ${options.quotaBytes} are free`);
    }
  }

  /** One quota decision at a time per owner, so two requests cannot both squeeze into the same bytes. */
  const lockQuota = (tx: Tx, ownerId: string) => tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`media-quota:${ownerId}`}))`);

  /** Re-encodes an image (upright, no metadata) and writes its thumbnail; a file that does not decode is INVALID_MEDIA. */
  async function processImage(source: string, type: keyof typeof FORMATS, file: string, thumbnail: string) {
    try {
      const decoded = sharp(source, { failOn: 'warning', limitInputPixels: MAX_INPUT_PIXELS }).rotate();
      const [info] = await Promise.all([
        decoded
          .clone()
          .resize(MAX_SIDE_PX, MAX_SIDE_PX, { fit: 'inside', withoutEnlargement: true })
          .toFormat(FORMATS[type])
          .toFile(work(file)),
        decoded
          .clone()
          .resize(THUMBNAIL_PX, THUMBNAIL_PX, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 75 })
          .toFile(work(thumbnail)),
      ]);
      return info;
    } catch {
      await removeFiles([file, thumbnail]);
      throw new ApiError(
        'INVALID_MEDIA',
        `The image cannot be read: it is truncated or damaged, or larger than ${MAX_INPUT_PIXELS / 1e6} megapixels`,
      );
    }
  }

  const removeFiles = (names: (string | null)[]) => files.remove(names.filter((name): name is string => name !== null));

  return {
    /**
     * Before an upload starts: its declared size is reserved until it ends, and refused when it
     * would not fit in the quota beside what is stored and what is being uploaded.
     */
    async admit(ownerId: string, uploadId: string, size: number): Promise<void> {
      await db.transaction(async (tx) => {
        await lockQuota(tx, ownerId);
        const used = await usage(tx, ownerId);
        if (used.open >= MAX_OPEN_UPLOADS) {
          throw new ApiError('QUOTA_EXCEEDED', `At most ${MAX_OPEN_UPLOADS} uploads may be unfinished at once; finish or cancel one`);
        }
        refuseOver(used.stored + used.reserved, size);
        await tx.insert(mediaUploads).values({ id: uploadId, ownerId, sizeBytes: size });
      });
    },

    /** An upload ended (finished, refused or cancelled): its reservation goes. */
    async release(uploadId: string): Promise<void> {
      await db.delete(mediaUploads).where(eq(mediaUploads.id, uploadId));
    },

    /**
     * A whole upload becomes a medium: its files are re-encoded (images) under names of their own,
     * taken into storage, then the row is written. A failed finish removes what it stored; a
     * repeated one (the row exists already) leaves the first one's files alone.
     */
    async store(ownerId: string, upload: FinishedUpload) {
      const ext = EXTENSIONS[upload.type]!;
      const names = { file: `${upload.id}.${ext}`, thumbnail: upload.type in FORMATS ? `${upload.id}.thumb.webp` : null };
      const part = `.part-${randomUUID()}`;
      const partial = { file: `${names.file}${part}`, thumbnail: `${names.thumbnail}${part}` };
      let values: Omit<typeof media.$inferInsert, 'fileName'>;
      if (names.thumbnail) {
        const info = await processImage(upload.path, upload.type as keyof typeof FORMATS, partial.file, partial.thumbnail);
        values = { id: upload.id, ownerId, kind: 'image', type: upload.type, sizeBytes: info.size, width: info.width, height: info.height };
      } else {
        await rename(upload.path, work(partial.file));
        values = { id: upload.id, ownerId, kind: 'video', type: upload.type, sizeBytes: upload.size };
      }
      const complete = { ...values, fileName: names.file, thumbnailName: names.thumbnail };
      try {
        await files.put(names.file, work(partial.file), upload.type);
        if (names.thumbnail) await files.put(names.thumbnail, work(partial.thumbnail), 'image/webp');
      } catch (error) {
        await Promise.all([rm(work(partial.file), { force: true }), rm(work(partial.thumbnail), { force: true })]);
        await removeFiles([names.file, names.thumbnail]).catch(() => {});
        throw error;
      }
      let row: MediaRecord;
      try {
        row = await db.transaction(async (tx) => {
          await lockQuota(tx, ownerId);
          await tx.delete(mediaUploads).where(eq(mediaUploads.id, upload.id));
          const used = await usage(tx, ownerId);
          refuseOver(used.stored + used.reserved, complete.sizeBytes);
          const [inserted] = await tx.insert(media).values(complete).returning();
          return inserted!;
        });
      } catch (error) {
        if (sqlState(error) === '23505') throw new ApiError('CONFLICT', 'This upload is finished already');
        await removeFiles([names.file, names.thumbnail]);
        throw error;
      }
      return toWireMedia(row);
    },

    async get(viewerId: string | null, mediaId: string): Promise<MediaRecord> {
      const [row] = await db
        .select()
        .from(media)
        .where(and(eq(media.id, mediaId), shownTo(viewerId)));
      if (!row) throw notFound();
      return row;
    },

    /** The file to stream: public caching when anyone may see it, private otherwise. */
    async file(viewerId: string | null, mediaId: string, variant: 'original' | 'thumbnail'): Promise<FileResult> {
      const [row] = await db
        .select({ media, public: viewerId === null ? sql<boolean>`true` : sql<boolean>`${shownTo(null)}` })
        .from(media)
        .where(and(eq(media.id, mediaId), shownTo(viewerId)));
      if (!row) throw notFound();
      const name = variant === 'thumbnail' ? row.media.thumbnailName : row.media.fileName;
      if (!name) throw new ApiError('NOT_FOUND', 'A video has no thumbnail');
      return {
        path: await files.path(name),
        type: variant === 'thumbnail' ? 'image/webp' : row.media.type,
        // The bytes of an id never change, but who may see them can (a post made private, a block):
        // every use revalidates (a 304 when still allowed), so no cache serves them past a change.
        cacheControl: row.public ? 'public, no-cache' : 'private, no-cache',
      };
    },

    async listMine(ownerId: string, page: Page) {
      const rows = await db
        .select()
        .from(media)
        .where(and(eq(media.ownerId, ownerId), page.after ? before(media.createdAt, media.id, page.after) : undefined))
        .orderBy(desc(media.createdAt), desc(media.id))
        .limit(page.limit + 1);
      return toPage(rows, page.limit);
    },

    async quota(ownerId: string) {
      const used = await usage(db, ownerId);
      return { usedBytes: used.stored + used.reserved, limitBytes: options.quotaBytes };
    },

    async remove(userId: string, mediaId: string): Promise<void> {
      const row = await this.get(userId, mediaId);
      if (row.ownerId !== userId) throw new ApiError('FORBIDDEN', 'Only its owner may delete a medium');
      const inUse = () => new ApiError('MEDIA_IN_USE', 'A post, memory, story or your profile still shows it');
      const deleted = await db
        .delete(media)
        .where(and(eq(media.id, mediaId), sql`NOT ${referenced}`))
        .returning()
        .catch((error: unknown) => {
          // Attached by a write that committed while this one waited for its row.
          throw sqlState(error) === '23503' ? inUse() : error;
        });
      if (deleted.length === 0) throw inUse();
      await removeFiles([row.fileName, row.thumbnailName]);
    },

    /**
     * In a write that attaches media: each id must be the owner's own medium. The rows are locked
     * against the clean-up job (KEY SHARE), so a medium found here is still there at commit.
     */
    async requireOwn(tx: Tx, ownerId: string, ids: readonly string[], field: string, kind?: 'image'): Promise<void> {
      if (ids.length === 0) return;
      const found = await tx
        .select({ id: media.id, kind: media.kind })
        .from(media)
        .where(and(inArray(media.id, [...ids]), eq(media.ownerId, ownerId)))
        .for('key share');
      const ok = new Set(found.filter((row) => !kind || row.kind === kind).map((row) => row.id));
      const index = ids.findIndex((id) => !ok.has(id));
      if (index >= 0) {
        const path = ids.length === 1 && !field.endsWith('Ids') ? `/body/${field}` : `/body/${field}/${index}`;
        throw fieldError(path, 'unknown_media', kind ? 'Not one of your uploaded images' : 'Not one of your uploads');
      }
    },

    /** Media by id, for what shows them (a story's); the caller has checked who may see the showing thing. */
    async byIds(ids: readonly string[]) {
      if (ids.length === 0) return [];
      return (
        await db
          .select()
          .from(media)
          .where(inArray(media.id, [...ids]))
      ).map(toWireMedia);
    },

    /** The media of these posts (or memories), in order, keyed by their id. */
    /** `executor`: a transaction reading them (on PGlite's one connection, a read beside it would wait for it forever). */
    async of(table: 'posts' | 'memories', ids: readonly string[], executor: AppDb | Tx = db) {
      const byOwner = new Map<string, ReturnType<typeof toWireMedia>[]>();
      if (ids.length === 0) return byOwner;
      const link = table === 'posts' ? postMedia : memoryMedia;
      const ownerColumn = table === 'posts' ? postMedia.postId : memoryMedia.memoryId;
      const rows = await executor
        .select({ owner: ownerColumn, media })
        .from(link)
        .innerJoin(media, eq(media.id, link.mediaId))
        .where(inArray(ownerColumn, [...ids]))
        .orderBy(link.position);
      for (const row of rows) byOwner.set(row.owner, [...(byOwner.get(row.owner) ?? []), toWireMedia(row.media)]);
      return byOwner;
    },

    /** Removes stored files (and thumbnails) whose rows are gone: an account's, once its deletion has committed. */
    removeFiles,

    /** Deletes up to `batch` media nothing has shown for a day after upload; safe on several instances at once. */
    async deleteUnreferenced(batch = 500): Promise<number> {
      const { rows } = await db.execute<{ file_name: string; thumbnail_name: string | null }>(sql`
        DELETE FROM media WHERE id IN (
          SELECT id FROM media WHERE created_at < now() - interval '1 day' AND NOT ${referenced}
          ORDER BY created_at LIMIT ${batch} FOR UPDATE SKIP LOCKED)
        RETURNING file_name, thumbnail_name`);
      await removeFiles(rows.flatMap((row) => [row.file_name, row.thumbnail_name]));
      // Reservations of uploads tus has expired by now (their bytes go the same day).
      await db.execute(sql`DELETE FROM media_uploads WHERE created_at < now() - interval '1 day'`);
      return rows.length;
    },
  };
}

export type MediaService = ReturnType<typeof createMediaService>;
