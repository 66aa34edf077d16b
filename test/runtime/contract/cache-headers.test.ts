import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cacheHeaders, endpoint, errorCodes, successHeaders, type Auth, type CachePolicy } from '../../../runtime/contract';

const getNote = (auth: Auth, cache?: CachePolicy) =>
  endpoint({
    method: 'GET',
    version: 1,
    path: '/notes',
    operationId: 'getNote',
    summary: 'A note',
    tags: ['notes'],
    auth,
    response: { status: 200, body: z.object({ text: z.string().max(10) }) },
    ...(cache ? { cache } : {}),
  });

describe('what a cache policy makes the runtime send', () => {
  it.each<[string, Auth, CachePolicy, Record<string, string>]>([
    ['public, kept a minute, no Vary', 'public', { scope: 'public', maxAge: 60 }, { 'Cache-Control': 'public, max-age=60' }],
    [
      'public, varying on a header it names',
      'public',
      { scope: 'public', maxAge: 0, vary: ['Accept-Language'] },
      { 'Cache-Control': 'public, no-cache', Vary: 'Accept-Language' },
    ],
    ['private to whoever asks', 'user', { scope: 'private', maxAge: 0 }, { 'Cache-Control': 'private, no-cache', Vary: 'Authorization' }],
    [
      'private, optional auth, and a header of its own',
      'optional',
      { scope: 'private', maxAge: 30, vary: ['Accept-Language'] },
      { 'Cache-Control': 'private, max-age=30', Vary: 'Authorization, Accept-Language' },
    ],
  ])('%s', (_what, auth, cache, expected) => {
    const e = getNote(auth, cache);
    expect(cacheHeaders(e)).toEqual(expected);
    expect(successHeaders(e)).toContain('ETag');
  });

  it('nothing without a policy; If-Match makes 412 a documented answer', () => {
    expect(cacheHeaders(getNote('public'))).toBeUndefined();
    expect(successHeaders(getNote('public'))).not.toContain('ETag');
    const patch = endpoint({
      ...getNote('user'),
      method: 'PATCH',
      operationId: 'patchNote',
      body: z.object({ text: z.string().max(10) }),
      ifMatch: true,
    });
    expect(errorCodes(patch)).toContain('PRECONDITION_FAILED');
    expect(errorCodes(getNote('user'))).not.toContain('PRECONDITION_FAILED');
  });
});
