import type { z } from 'zod';
import { DEFAULT_BASE_PATH, servedPath, type Auth, type EndpointDefinition, type RateLimit } from './endpoint';

/**
 * The upload DSL: one call declares a resumable upload resource served with the tus 1.0.0
 * protocol (creation, core, termination, expiration). The generator documents its four HTTP
 * operations (binary `application/offset+octet-stream` body included), the runtime serves them
 * with the limits declared here, and the generated client gets a resumable upload method.
 */
export interface UploadDefinition extends Pick<EndpointDefinition, 'version' | 'operationId' | 'summary' | 'description' | 'tags'> {
  /** Where uploads are created; each upload lives at `{path}/{uploadId}`. The `operationId` names the
   * client method and the creation operation; the others are `{operationId}Status` (HEAD),
   * `{operationId}Append` (PATCH) and `{operationId}Cancel` (DELETE). */
  readonly path: string;
  /** An upload is someone's: it counts against their quota, and only they may continue or cancel it. */
  readonly auth: Exclude<Auth, 'public' | 'optional'>;
  /**
   * The media types accepted, as read from the file's bytes (not the client's claim), and the
   * largest size of each. The claimed type and the declared length are checked at creation too.
   */
  readonly types: Readonly<Record<string, { readonly maxBytes: number }>>;
  /** What a finished upload becomes: the last PATCH answers 200 with `{ data: … }` of this schema. */
  readonly response: { readonly body: z.ZodType; readonly description?: string };
  /** Domain codes the creation or the finishing can answer with (over quota, an unreadable file, …). */
  readonly errors?: readonly string[];
  /** Counted on each creation. */
  readonly rateLimit?: RateLimit;
  /** An unfinished upload is deleted this long after it was created (a day by default). */
  readonly expiresAfterSeconds?: number;
}

export type UploadContract<D extends UploadDefinition = UploadDefinition> = D & {
  readonly kind: 'upload';
  /** The served creation path, base path included: `/api/v1/uploads`. */
  readonly fullPath: string;
  /** The largest size of any accepted type: no upload may declare more. */
  readonly maxBytes: number;
  readonly expiresAfterSeconds: number;
};

export function upload<const D extends UploadDefinition>(definition: D): UploadContract<D> {
  const sizes = Object.values(definition.types).map((type) => type.maxBytes);
  if (sizes.length === 0) throw new Error(`Upload ${definition.operationId} accepts no media type`);
  return {
    ...definition,
    kind: 'upload',
    fullPath: servedPath(DEFAULT_BASE_PATH, definition.version, definition.path),
    maxBytes: Math.max(...sizes),
    expiresAfterSeconds: definition.expiresAfterSeconds ?? 24 * 3600,
  };
}

export function isUpload(value: unknown): value is UploadContract {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'upload';
}

/** The operationIds of an upload's four protocol operations, as the spec names them. */
export function uploadOperationIds(u: Pick<UploadDefinition, 'operationId'>) {
  return {
    create: u.operationId,
    status: `${u.operationId}Status`,
    append: `${u.operationId}Append`,
    cancel: `${u.operationId}Cancel`,
  } as const;
}

/** The tus protocol version served. */
export const TUS_VERSION = '1.0.0';

/** Headers of the tus protocol a browser must be allowed to read. */
export const UPLOAD_HEADERS = ['Location', 'Tus-Resumable', 'Upload-Offset', 'Upload-Length', 'Upload-Expires', 'Upload-Metadata'] as const;

/** Every code each protocol operation can answer with: the runtime's around the contract's domain codes. */
export function uploadErrorCodes(u: UploadDefinition): Record<keyof ReturnType<typeof uploadOperationIds>, string[]> {
  const auth = ['UNAUTHENTICATED', 'TOKEN_EXPIRED', ...(typeof u.auth === 'object' ? ['FORBIDDEN'] : []), 'TUS_VERSION_UNSUPPORTED'];
  const existing = ['NOT_FOUND', 'UPLOAD_EXPIRED'];
  const domain = u.errors ?? [];
  return {
    create: [
      'VALIDATION_FAILED',
      ...auth,
      'UNSUPPORTED_MEDIA_TYPE',
      'PAYLOAD_TOO_LARGE',
      ...domain,
      ...(u.rateLimit ? ['RATE_LIMITED'] : []),
      'INTERNAL',
    ],
    status: [...auth, ...existing, 'INTERNAL'],
    append: [
      'VALIDATION_FAILED',
      ...auth,
      ...existing,
      'UPLOAD_OFFSET_CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      ...domain,
      'INTERNAL',
    ],
    cancel: [...auth, ...existing, 'CONFLICT', 'INTERNAL'],
  };
}
