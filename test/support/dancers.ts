import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Role } from '../../server/db/schema';
import type { createTestApp } from './app';

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** A user of a test app, with an access token of a session of their own. */
export interface Dancer {
  id: string;
  username: string;
  token: string;
}

/**
 * Users and requests for a test app made in `beforeAll` (hence the getter): `dancer()` stores a
 * user directly (no password hashing), `as(who)` sends requests under `/api/v1` with their token,
 * or signed out with `null`.
 */
export function dancersOf(app: () => TestApp) {
  async function dancer(roles: string[] = ['user']): Promise<Dancer> {
    const username = `dancer-${randomUUID().slice(0, 8)}`;
    // The roles are the account's as well as the token's: role-gated operations read them from the database.
    const user = await app().services.userStore.create({
      username,
      displayName: `Dancer ${username}`,
      passwordHash: 'not-a-real-hash',
      roles: roles as Role[],
    });
    if (user === 'taken') throw new Error('username collision');
    return { id: user.id, username, token: await app().token(user.id, roles) };
  }

  /** n new dancers; the type lets a test take the first five by name. */
  const dancers = async (n: number) =>
    (await Promise.all(Array.from({ length: n }, () => dancer()))) as [Dancer, Dancer, Dancer, Dancer, Dancer, ...Dancer[]];

  const as = (who: Dancer | null) => {
    const auth = (r: request.Test) => (who ? r.set('Authorization', `Bearer ${who.token}`) : r);
    const at = (path: string) => `/api/v1${path}`;
    return {
      get: (path: string, query: Record<string, string | number> = {}) => auth(request(app().app).get(at(path)).query(query)),
      post: (path: string, body?: object) => auth(request(app().app).post(at(path))).send(body),
      patch: (path: string, body: object) => auth(request(app().app).patch(at(path))).send(body),
      put: (path: string, body?: object) => auth(request(app().app).put(at(path))).send(body),
      delete: (path: string) => auth(request(app().app).delete(at(path))),
    };
  };

  return { dancer, dancers, as };
}
