import request from 'supertest';
import type { App } from '../../../runtime/server';

/** One response as the client saw it: status, every header and the raw body text. */
export interface Recorded {
  label: string;
  method: string;
  path: string;
  status: number;
  headers: string;
  body: string;
}

export interface CallOptions {
  token?: string;
  body?: object;
  /** Sent as X-Forwarded-For (the app trusts the loopback proxy). */
  ip?: string;
}

type Method = 'get' | 'post' | 'patch' | 'delete';

/**
 * Every request of a test goes through `call`, so every response is recorded: nothing can reach
 * a client without landing in `responses`. `afterEach` runs after each response (e.g. to read the
 * database while a secret is stored).
 */
export function createRecorder(app: App, afterEach: () => Promise<void> = async () => {}) {
  const responses: Recorded[] = [];
  async function call(label: string, method: Method, path: string, options: CallOptions = {}) {
    let req = request(app)[method](`/api/v1${path}`);
    if (options.token) req = req.set('Authorization', `Bearer ${options.token}`);
    if (options.ip) req = req.set('X-Forwarded-For', options.ip);
    const res = options.body === undefined ? await req : await req.send(options.body);
    responses.push({
      label,
      method: method.toUpperCase(),
      path,
      status: res.status,
      headers: JSON.stringify(res.headers),
      body: res.text ?? '',
    });
    await afterEach();
    return res;
  }
  return { responses, call };
}

/** Where `needle` occurs in `haystack`, with some context, for a failure message. */
export function around(haystack: string, needle: string): string {
  const at = haystack.indexOf(needle);
  return at < 0 ? '' : haystack.slice(Math.max(0, at - 60), at + needle.length + 60);
}
