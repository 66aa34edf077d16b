import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import { fileTypeFromFile } from 'file-type';
import type { Logger } from 'pino';
import { NodeRequest } from 'srvx/node';
import { rateLimitsOf, uploadOperationIds, type UploadContract } from '../contract';
import { ApiError } from '../core/api-error';
import { checkOutput } from '../core/operation';
import { createOperationLimits, type LimiterFactory } from '../core/rate-limit';
import { signedInUser, type AuthUser, type TokenVerifier } from './auth';
import type { ProblemWriter } from './problem';

/** A whole upload, its type read from its bytes. */
export interface FinishedUpload {
  id: string;
  /** Where the bytes are; the finishing step may move the file away (what is left is deleted). */
  path: string;
  size: number;
  /** The media type the bytes show, one of the contract's. */
  type: string;
  /** The `filename` the client gave, if any. */
  name: string | undefined;
}

/** An upload contract and what the application does with its uploads. */
export interface UploadRoute<Result = unknown> {
  contract: UploadContract;
  /** Where unfinished uploads are kept (created if missing). */
  directory: string;
  /** Before an upload is created, with its declared size and claimed type: throw an ApiError to refuse it (over quota, …). */
  onCreate?: (user: AuthUser, upload: { size: number; type: string }) => Promise<void>;
  /** The whole file: returns what it became (the contract's response). An ApiError refuses it, and the file is deleted. */
  onFinish: (user: AuthUser, upload: FinishedUpload) => Promise<Result>;
}

export interface UploadHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Deletes unfinished uploads older than the contract's `expiresAfterSeconds`. */
  deleteExpired(): Promise<number>;
}

const METHODS = ['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Serves one upload contract with the tus protocol (`@tus/server`, files on disk): the caller is
 * authenticated as for any operation, an upload is only its creator's to continue, the claimed
 * type and declared size are checked at creation and the real type (from the bytes) at the end,
 * and every refusal is a problem+json like the rest of the API.
 */
export function createUploadHandler(
  route: UploadRoute,
  deps: {
    verifier: TokenVerifier;
    limiters: LimiterFactory;
    writeProblem: ProblemWriter;
    log: Logger;
    clientAddress: (req: IncomingMessage) => string;
  },
): UploadHandler {
  const { contract } = route;
  const roles = typeof contract.auth === 'object' ? new Set(contract.auth.roles) : undefined;
  const limits = createOperationLimits(uploadOperationIds(contract).create, rateLimitsOf(contract), deps.limiters);
  const store = new FileStore({ directory: route.directory, expirationPeriodInMilliseconds: contract.expiresAfterSeconds * 1000 });
  // What each request is about, keyed by its web Request (the object tus hands to every hook).
  const callers = new WeakMap<Request, AuthUser>();
  const refusals = new WeakMap<Request, ApiError>();

  /** Refuses from inside a tus hook: tus answers with the status, the wrapper with the problem. */
  const refuse = (req: Request, error: ApiError) => {
    refusals.set(req, error);
    return { status_code: 400, body: error.code };
  };
  const callerOf = (req: Request) => callers.get(req)!;

  const tus = new TusServer({
    path: contract.fullPath,
    datastore: store,
    relativeLocation: true,
    maxSize: contract.maxBytes,
    namingFunction: () => randomUUID(),
    async onIncomingRequest(req, id) {
      if (req.method === 'POST') return;
      const upload = await store.getUpload(id);
      if (upload.metadata?.owner !== callerOf(req).id) throw refuse(req, new ApiError('NOT_FOUND', 'No upload with this id'));
    },
    async onUploadCreate(req, upload) {
      const type = upload.metadata?.filetype ?? '';
      const limit = Object.hasOwn(contract.types, type) ? contract.types[type] : undefined;
      if (upload.size === undefined) throw refuse(req, new ApiError('VALIDATION_FAILED', 'Upload-Length is required'));
      if (!limit) throw refuse(req, new ApiError('UNSUPPORTED_MEDIA_TYPE', `The filetype must be one of ${typeList(contract)}`));
      if (upload.size > limit.maxBytes) throw refuse(req, tooLarge(type, limit.maxBytes));
      try {
        await route.onCreate?.(callerOf(req), { size: upload.size, type });
      } catch (error) {
        if (error instanceof ApiError) throw refuse(req, error);
        throw error;
      }
      return { metadata: { ...upload.metadata, owner: callerOf(req).id } };
    },
    async onUploadFinish(req, upload) {
      const path = upload.storage?.path ?? join(route.directory, upload.id);
      try {
        const type = (await fileTypeFromFile(path))?.mime ?? '';
        const limit = Object.hasOwn(contract.types, type) ? contract.types[type] : undefined;
        if (!limit) {
          throw new ApiError(
            'UNSUPPORTED_MEDIA_TYPE',
            `The file is ${type ? `a ${type}` : 'of no known type'}; accepted: ${typeList(contract)}`,
          );
        }
        if (upload.size! > limit.maxBytes) throw tooLarge(type, limit.maxBytes);
        const name = upload.metadata?.filename ?? undefined;
        const result = await route.onFinish(callerOf(req), { id: upload.id, path, size: upload.size!, type, name });
        const data = checkOutput(contract.operationId, contract.response.body, result);
        return { status_code: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify({ data }) };
      } catch (error) {
        if (error instanceof ApiError) throw refuse(req, error);
        throw error;
      } finally {
        // Finished or refused, the upload is over: nothing half-stored is kept.
        await Promise.all([rm(path, { force: true }), rm(`${path}.json`, { force: true })]);
      }
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!METHODS.includes(req.method!)) {
      throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`, { headers: { Allow: METHODS.join(', ') } });
    }
    const request = new NodeRequest({ req, res });
    let limitHeaders: Record<string, string> | undefined;
    if (req.method !== 'OPTIONS') {
      const user = await signedInUser(req.headers.authorization, deps.verifier, roles);
      callers.set(request, user);
      if (req.method === 'POST') {
        limitHeaders = await limits.check('before-validation', { ip: deps.clientAddress(req), userId: user.id, body: undefined });
      }
    }
    const response = await tus.handleWeb(request);
    if (response.status >= 400) {
      const text = await response.text();
      throw refusals.get(request) ?? fromTus(response.status, text, deps.log);
    }
    const body = Buffer.from(await response.arrayBuffer());
    // The runtime's own CORS headers are on the response already; tus's would contradict them.
    for (const [name, value] of response.headers) if (!name.startsWith('access-control-')) res.setHeader(name, value);
    if (limitHeaders) for (const name in limitHeaders) res.setHeader(name, limitHeaders[name]!);
    res.writeHead(response.status);
    res.end(body.length > 0 ? body : undefined);
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => deps.writeProblem(req, res, error));
  };
  return Object.assign(handler, { deleteExpired: () => tus.cleanUpExpiredUploads() });
}

function typeList(contract: UploadContract): string {
  return Object.keys(contract.types).join(', ');
}

function tooLarge(type: string, maxBytes: number): ApiError {
  return new ApiError('PAYLOAD_TOO_LARGE', `A ${type} may have at most ${maxBytes} bytes`);
}

/** tus's own refusals (plain text) as the API's problems. */
function fromTus(status: number, text: string, log: Logger): unknown {
  const detail = text.trim().slice(0, 300);
  if (status === 400 && detail.startsWith('Cannot terminate')) return new ApiError('CONFLICT', 'A finished upload cannot be cancelled');
  if (status === 403 && detail.startsWith('Content-Type')) {
    return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'PATCH bodies are Content-Type: application/offset+octet-stream');
  }
  const codes: Record<number, string> = {
    400: 'VALIDATION_FAILED',
    403: 'VALIDATION_FAILED',
    404: 'NOT_FOUND',
    409: 'UPLOAD_OFFSET_CONFLICT',
    410: 'UPLOAD_EXPIRED',
    412: 'TUS_VERSION_UNSUPPORTED',
    413: 'PAYLOAD_TOO_LARGE',
  };
  const code = codes[status];
  if (code) return new ApiError(code, detail || undefined);
  log.error({ status, detail }, 'upload failed');
  return new Error(`tus answered ${status}`);
}
