import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as TusServer } from '@tus/server';
import type { Upload } from '@tus/utils';
import { fileTypeFromFile } from 'file-type';
import type { Logger } from 'pino';
import { NodeRequest } from 'srvx/node';
import { rateLimitsOf, TUS_VERSION, uploadOperationIds, type UploadContract } from '../contract';
import { ApiError, fieldError } from '../core/api-error';
import { checkOutput } from '../core/operation';
import { createOperationLimits, type LimiterFactory } from '../core/rate-limit';
import { signedInUser, type AuthUser, type CurrentRoles, type TokenVerifier } from './auth';
import type { ProblemWriter } from './problem';
import type { UploadStore } from './upload-stores';
import { requestPath, requestState } from './request-state';

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
  /** Where unfinished uploads are kept: `openUploadStore(contract, { kind: 'disk', directory })`, or a bucket. */
  store: UploadStore;
  /** Before an upload is created, with its declared size and claimed type: throw an ApiError to refuse it (over quota, …). */
  onCreate?: (user: AuthUser, upload: { id: string; size: number; type: string }) => Promise<void>;
  /** The whole file: returns what it became (the contract's response). An ApiError refuses it, and the file is deleted. */
  onFinish: (user: AuthUser, upload: FinishedUpload) => Promise<Result>;
  /** After an upload ended here, finished, refused or cancelled (not when it expires: see `deleteExpired`). */
  onEnd?: (uploadId: string) => Promise<void>;
}

export interface UploadHandler {
  /** Serves `{path}` (creation) and `{path}/{uploadId}` (status, append, cancel). */
  collection(req: IncomingMessage, res: ServerResponse): void;
  item(req: IncomingMessage, res: ServerResponse): void;
  /** Deletes unfinished uploads older than the contract's `expiresAfterSeconds`. */
  deleteExpired(): Promise<number>;
}

const COLLECTION_METHODS = ['POST', 'OPTIONS'];
const ITEM_METHODS = ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'];
const MAX_METADATA = 2048;
const MAX_FILENAME = 255;

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
    currentRoles?: CurrentRoles;
    limiters: LimiterFactory;
    writeProblem: ProblemWriter;
    log: Logger;
    clientAddress: (req: IncomingMessage) => string;
    /** The signed-in user as request spans name them (`user.hash`). */
    hashUser: (userId: string) => string;
  },
): UploadHandler {
  const { contract } = route;
  const roles = typeof contract.auth === 'object' ? new Set(contract.auth.roles) : undefined;
  const limits = createOperationLimits(uploadOperationIds(contract).create, rateLimitsOf(contract), deps.limiters);
  const store = route.store.datastore;
  // What each request is about, keyed by its web Request (the object tus hands to every hook).
  const callers = new WeakMap<Request, AuthUser>();
  const refusals = new WeakMap<Request, ApiError>();
  /** The upload a request brought to its end (its file is removed once the request is answered). */
  const finished = new WeakMap<Request, Upload>();
  const finishing = new Set<string>();

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
      // Missing, expired or someone else's: the same answer, so a stranger learns nothing.
      const upload = await store.getUpload(id).catch(() => undefined);
      if (upload?.metadata?.owner !== callerOf(req).id) throw refuse(req, new ApiError('NOT_FOUND', 'No upload with this id'));
    },
    async onUploadCreate(req, upload) {
      const type = upload.metadata?.filetype ?? '';
      const name = upload.metadata?.filename ?? undefined;
      const limit = Object.hasOwn(contract.types, type) ? contract.types[type] : undefined;
      if (upload.size === undefined) throw refuse(req, new ApiError('VALIDATION_FAILED', 'Upload-Length is required'));
      if (!limit) throw refuse(req, new ApiError('UNSUPPORTED_MEDIA_TYPE', `The filetype must be one of ${typeList(contract)}`));
      if (upload.size > limit.maxBytes) throw refuse(req, tooLarge(type, limit.maxBytes));
      if (name !== undefined && name.length > MAX_FILENAME) {
        throw refuse(req, new ApiError('VALIDATION_FAILED', `The filename may have at most ${MAX_FILENAME} characters`));
      }
      try {
        await route.onCreate?.(callerOf(req), { id: upload.id, size: upload.size, type });
      } catch (error) {
        if (error instanceof ApiError) throw refuse(req, error);
        throw error;
      }
      // Only what the server reads is kept (the metadata is sent back on every HEAD).
      return { metadata: { filetype: type, ...(name === undefined ? {} : { filename: name }), owner: callerOf(req).id } };
    },
    async onUploadFinish(req, upload) {
      // tus lets go of an upload's lock before this hook: a second request reaching the end of the
      // same upload meanwhile (an empty PATCH at its length) must not finish it twice.
      if (finishing.has(upload.id)) throw refuse(req, new ApiError('CONFLICT', 'This upload is being finished by another request'));
      finishing.add(upload.id);
      finished.set(req, upload);
      const path = await route.store.local(upload);
      const type = (await fileTypeFromFile(path))?.mime ?? '';
      const limit = Object.hasOwn(contract.types, type) ? contract.types[type] : undefined;
      try {
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
      }
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse, item: boolean): Promise<void> {
    const allowed = item ? ITEM_METHODS : COLLECTION_METHODS;
    if (!allowed.includes(req.method!)) {
      throw new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allowed.join(', ')}`, {
        headers: { Allow: allowed.join(', ') },
      });
    }
    let limitHeaders: Record<string, string> | undefined;
    let user: AuthUser | undefined;
    if (req.method !== 'OPTIONS') {
      user = await signedInUser(req.headers.authorization, deps.verifier, roles, deps.currentRoles);
      const { span } = requestState(req);
      if (span?.isRecording()) span.setAttribute('user.hash', deps.hashUser(user.id));
      checkHeaders(req);
      if (req.method === 'POST') {
        limitHeaders = await limits.check('before-validation', { ip: deps.clientAddress(req), userId: user.id, body: undefined });
      }
    }
    // Locations are relative, so tus has no use for these; it would refuse a list in X-Forwarded-Proto.
    for (const name of ['forwarded', 'x-forwarded-proto', 'x-forwarded-host']) delete req.headers[name];
    const request = new NodeRequest({ req, res });
    if (user) callers.set(request, user);
    let response: Response;
    try {
      response = await tus.handleWeb(request);
    } finally {
      // Finished or refused, an upload that reached its end is over: nothing of it is kept here.
      const done = finished.get(request);
      if (done) {
        try {
          await route.store.discard(done);
        } finally {
          finishing.delete(done.id);
          await route.onEnd?.(done.id);
        }
      }
    }
    if (response.status >= 400) {
      const text = await response.text();
      throw refusals.get(request) ?? fromTus(response.status, text, deps.log);
    }
    if (req.method === 'DELETE') await route.onEnd?.(requestPath(req).split('/').pop()!);
    const body = Buffer.from(await response.arrayBuffer());
    // The runtime's own CORS headers are on the response already; tus's would contradict them.
    for (const [name, value] of response.headers) {
      if (name.startsWith('access-control-') || (body.length === 0 && name === 'content-type')) continue;
      res.setHeader(name, value);
    }
    if (limitHeaders) for (const name in limitHeaders) res.setHeader(name, limitHeaders[name]!);
    res.writeHead(response.status);
    res.end(body.length > 0 ? body : undefined);
  }

  /** What tus would refuse with codes of its own, refused here with the API's. */
  function checkHeaders(req: IncomingMessage): void {
    if (req.headers['tus-resumable'] !== TUS_VERSION) {
      throw new ApiError('TUS_VERSION_UNSUPPORTED', `Send Tus-Resumable: ${TUS_VERSION}`, { headers: { 'Tus-Version': TUS_VERSION } });
    }
    if (req.method === 'PATCH' && req.headers['content-type'] !== 'application/offset+octet-stream') {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'PATCH bodies are Content-Type: application/offset+octet-stream');
    }
    const metadata = req.headers['upload-metadata'];
    if (metadata !== undefined && metadata.length > MAX_METADATA) {
      throw fieldError('/headers/upload-metadata', 'too_big', `Upload-Metadata may have at most ${MAX_METADATA} characters`);
    }
  }

  const handlerFor =
    (item: boolean) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      handle(req, res, item).catch((error: unknown) => deps.writeProblem(req, res, withTusHeader(error)));
    };
  return { collection: handlerFor(false), item: handlerFor(true), deleteExpired: () => tus.cleanUpExpiredUploads() };
}

/** Every answer of an upload names the protocol version, problems included. */
function withTusHeader(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  return new ApiError(error.code, error.detail, { ...error.extra, headers: { ...error.extra.headers, 'Tus-Resumable': TUS_VERSION } });
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
  const codes: Record<number, string> = {
    400: 'VALIDATION_FAILED',
    403: 'VALIDATION_FAILED',
    404: 'NOT_FOUND',
    409: 'UPLOAD_OFFSET_CONFLICT',
    410: 'UPLOAD_EXPIRED',
    412: 'TUS_VERSION_UNSUPPORTED',
    413: 'PAYLOAD_TOO_LARGE',
    // Extensions not served (Upload-Concat, …): a request this server does not take.
    501: 'VALIDATION_FAILED',
  };
  const code = codes[status];
  if (code) return new ApiError(code, detail || undefined);
  log.error({ status, detail }, 'upload failed');
  return new Error(`tus answered ${status}`);
}
