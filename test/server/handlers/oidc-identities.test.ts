import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { appOnOwnDatabase } from '../../support/app';
import { dancersOf } from '../../support/dancers';

/**
 * listOidcIdentities and unlinkOidcIdentity at their edges, with no provider needed: who may call
 * them, and input the contract refuses. Their flows with a real provider: oidc.test.ts.
 */
const { app, database } = appOnOwnDatabase();
const { dancer, as } = dancersOf(app);
const WELL_FORMED = '3f2a9c1b7d4e8f6a0b5c2d9e1f7a3b4c';
const removal = (id: string) => `/auth/oidc/identities/${id}/removal`;

describe('provider accounts linked to mine', () => {
  it('are the signed-in user’s only: signed out, both operations are 401', async () => {
    for (const res of [await as(null).get('/auth/oidc/identities'), await as(null).post(removal(WELL_FORMED), {})]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    }
  });

  it('lists none for an account without any, and an unknown id is 404 (nothing removed)', async () => {
    const ana = await dancer();
    const listed = await as(ana).get('/auth/oidc/identities');
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual({ identities: [] });
    const unknown = await as(ana).post(removal(WELL_FORMED), { currentPassword: 'whatever it is' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
  });

  it('refuses a malformed id and a body outside the contract with 400 VALIDATION_FAILED, naming the field', async () => {
    const ana = await dancer();
    await database().db.execute(
      sql`INSERT INTO oidc_identities (issuer, subject, user_id) VALUES ('https://accounts.example.org', ${ana.id}, ${ana.id})`,
    );
    const cases: [string, unknown, string][] = [
      [removal('NOT-HEX-and-too-short'), {}, '/params/identityId'],
      [removal(WELL_FORMED.toUpperCase()), {}, '/params/identityId'],
      [removal(`${WELL_FORMED}00`), {}, '/params/identityId'],
      [removal(WELL_FORMED), { currentPassword: 42 }, '/body/currentPassword'],
      [removal(WELL_FORMED), { currentPassword: 'x'.repeat(1025) }, '/body/currentPassword'],
      [removal(WELL_FORMED), { currentPassword: 'ok', extra: true }, '/body/extra'],
    ];
    // Each caller fails at most 5 times in 15 minutes here (the `password` limit): three cases a caller.
    const callers = [ana, ana, ana, await dancer(), await dancer(), await dancer()];
    for (const [i, [path, body, field]] of cases.entries()) {
      const res = await as(callers[i]!).post(path, body as object);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    // Nothing was removed by any of them.
    const { rows } = await database().db.execute(sql`SELECT 1 FROM oidc_identities WHERE user_id = ${ana.id}`);
    expect(rows).toHaveLength(1);
  });
});
