import { ApiClientError } from './errors.js';
import { iterateItems, iteratePages } from './paging.js';
import { singleFlight } from './refresh.js';
import { readResponse, type AttemptOutcome } from './response.js';
import { isReplaySafe, isTransient, resolveRetryPolicy, retryDelay, sleep } from './retry.js';
import { createRevalidationCache } from './revalidation.js';
import type { ClientOptions, OperationDescriptor, Page, RequestInput, Transport, UploadInput } from './types.js';
import { uploadResumable } from './upload.js';
import { buildUrl } from './url.js';

/** Seams for tests, so backoff can be observed without waiting for it. Not part of the client API. */
export interface TransportHooks {
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

type Token = string | undefined;

export function createTransport(options: ClientOptions, hooks: TransportHooks = {}): Transport {
  // Held in a local and called bare: browsers reject fetch called as a method of another object.
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const policy = resolveRetryPolicy(options.retry);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const wait = hooks.sleep ?? sleep;
  const random = hooks.random ?? Math.random;
  const tokens = options.tokens;
  const refresh = tokens?.refresh ? singleFlight(() => tokens.refresh!()) : undefined;
  const held = options.revalidate === 0 ? undefined : createRevalidationCache(options.revalidate);

  async function currentToken(): Promise<Token> {
    return (await tokens?.getAccessToken()) ?? undefined;
  }

  async function request<T>(op: OperationDescriptor, input: RequestInput = {}): Promise<T> {
    const url = buildUrl(options.baseUrl, op, input);
    const body = input.body === undefined ? undefined : JSON.stringify(input.body);
    const retryable = policy !== undefined && isReplaySafe(op.method, input.idempotencyKey);
    let replayed = false;
    let retries = 0;
    for (;;) {
      if (input.signal?.aborted) throw aborted(op, input.signal.reason);
      const token = op.auth ? await currentToken() : undefined;
      const outcome = await attempt(op, input, url, body, token);
      if (outcome.ok) return outcome.value as T;
      const { error } = outcome;

      if (error.status === 401 && error.code === 'TOKEN_EXPIRED' && refresh && !replayed) {
        replayed = true;
        await renewToken(op, token, error);
        continue;
      }
      const delay =
        retryable && retries < policy.retries && isTransient(error) ? retryDelay(policy, retries, outcome.retryAfter, random) : undefined;
      if (delay === undefined) throw error;
      try {
        await wait(delay, input.signal);
      } catch (cause) {
        throw aborted(op, cause);
      }
      retries += 1;
    }
  }

  async function attempt(
    op: OperationDescriptor,
    input: RequestInput,
    url: string,
    body: string | undefined,
    token: Token,
  ): Promise<AttemptOutcome> {
    // One controller per attempt, fed by both the timeout and the caller's signal; which one fired decides the code.
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      timeoutMs > 0 && Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs)
        : undefined;
    const onAbort = () => controller.abort();
    input.signal?.addEventListener('abort', onAbort, { once: true });
    // A GET answered with an ETag before, by URL and token (another user's answer is not ours).
    const key = held && op.method === 'GET' ? `${token ?? ''} ${url}` : undefined;
    const cached = key === undefined ? undefined : held!.get(key);
    try {
      const headers = buildHeaders(input, body, token);
      if (cached && !headers.has('if-none-match')) headers.set('if-none-match', cached.etag);
      const response = await fetchImpl(url, { method: op.method, headers, body, signal: controller.signal });
      // Copies in and out: the caller may change what it was given.
      if (response.status === 304 && cached) return { ok: true, value: structuredClone(cached.value) };
      const outcome = await readResponse(response, op, input.signal);
      const etag = response.headers.get('etag');
      // Not a file: fetch sends If-None-Match with no-cache, which a file server answers 200 anyway.
      if (key !== undefined && outcome.ok && etag && !op.stream && !op.file) held!.set(key, etag, structuredClone(outcome.value));
      return outcome;
    } catch (cause) {
      if (input.signal?.aborted) throw aborted(op, cause);
      const code = timedOut ? 'TIMEOUT' : 'NETWORK_ERROR';
      return { ok: false, error: new ApiClientError({ status: 0, code, operationId: op.operationId, cause }), retryAfter: null };
    } finally {
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onAbort);
    }
  }

  function buildHeaders(input: RequestInput, body: string | undefined, token: Token): Headers {
    const headers = new Headers({ accept: 'application/json' });
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    for (const extra of [options.headers, input.headers]) {
      for (const [name, value] of Object.entries(extra ?? {})) headers.set(name, value);
    }
    if (body !== undefined) headers.set('content-type', 'application/json');
    if (input.idempotencyKey !== undefined) headers.set('idempotency-key', input.idempotencyKey);
    return headers;
  }

  async function renewToken(op: OperationDescriptor, sentToken: Token, expired: ApiClientError): Promise<void> {
    // A response that arrives after another request's refresh settled must not start a second refresh.
    if (!refresh!.running && (await currentToken()) !== sentToken) return;
    let renewed: boolean;
    try {
      renewed = await refresh!.run();
    } catch (error) {
      // The refresh could not be made (network, timeout, server trouble): that is not a sign-out,
      // and the app should be able to tell, so it is reported as what it was.
      const failure = error instanceof ApiClientError ? error : undefined;
      throw new ApiClientError({
        status: failure?.status ?? 0,
        code: failure?.code ?? 'NETWORK_ERROR',
        operationId: op.operationId,
        requestId: failure?.requestId,
        message: `${op.operationId} failed: the access token expired and refreshing it failed (${(error as Error).message})`,
        cause: error,
      });
    }
    if (!renewed) {
      throw new ApiClientError({
        status: 401,
        code: 'UNAUTHENTICATED',
        operationId: op.operationId,
        requestId: expired.requestId,
        message: `${op.operationId} failed: 401 UNAUTHENTICATED (the access token expired and the refresh was refused)`,
        cause: expired,
      });
    }
  }

  function pages<T>(op: OperationDescriptor, input: RequestInput = {}): AsyncIterable<Page<T>> {
    if (!op.paged) throw new TypeError(`${op.operationId} is not a paged operation`);
    return iteratePages((pageInput) => request<Page<T>>(op, pageInput), input);
  }

  /**
   * A resumable upload: the token is read before each of its requests, and one that expires on
   * the way is refreshed once and the upload resumed where the server stands.
   */
  async function upload<T>(op: OperationDescriptor, input: UploadInput): Promise<T> {
    let resumeUrl = input.resumeUrl;
    let replayed = false;
    for (;;) {
      let sent: Token;
      try {
        const result = await uploadResumable({
          ...input,
          url: buildUrl(options.baseUrl, op, {}),
          operationId: op.operationId,
          fetch: fetchImpl,
          resumeUrl,
          onCreated(url) {
            resumeUrl = url;
            input.onCreated?.(url);
          },
          headers: async () => {
            sent = await currentToken();
            return { ...options.headers, ...(sent === undefined ? {} : { authorization: `Bearer ${sent}` }) };
          },
        });
        return result.data as T;
      } catch (error) {
        const expired = error instanceof ApiClientError && error.status === 401 && error.code === 'TOKEN_EXPIRED';
        if (!expired || !refresh || replayed) throw error;
        replayed = true;
        await renewToken(op, sent, error);
      }
    }
  }

  return {
    request,
    pages,
    items: <T>(op: OperationDescriptor, input?: RequestInput) => iterateItems(pages<T>(op, input)),
    upload,
  };
}

function aborted(op: OperationDescriptor, cause: unknown): ApiClientError {
  return new ApiClientError({ status: 0, code: 'ABORTED', operationId: op.operationId, cause });
}
