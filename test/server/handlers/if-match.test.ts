import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { expect, it } from 'vitest';
import { appOnOwnDatabase } from '../../support/app';
import { describeEachBackend } from '../../support/database';

/**
 * If-Match on the PATCH of posts and groups (events: events-caching.test.ts): the ETag their GET
 * sends makes the change; a stale one gets 412 and changes nothing; of two changes sent at once
 * with the same ETag, one is made. The post carries a photo: its media are part of what is compared.
 */
// On both backends: PGlite has one connection, so a read beside the write's transaction waits forever
// (a post's media were read so once, and its PATCH with If-Match never answered).
describeEachBackend('If-Match on posts and groups', (backend) => {
  const { app } = appOnOwnDatabase(() => backend.open());

  async function signedIn() {
    const user = await app().services.userStore.create({
      username: `im-${randomUUID().slice(0, 8)}`,
      displayName: 'IM',
      passwordHash: 'x',
    });
    if (user === 'taken') throw new Error('username collision');
    return { id: user.id, auth: `Bearer ${await app().token(user.id)}` };
  }

  it.each([
    ['posts', { body: 'Milonga tonight', visibility: 'public' }, (n: number) => ({ body: `Edit ${n}` })],
    [
      'groups',
      { name: 'Tango del Sur', kind: 'community', city: 'Sevilla', visibility: 'public' },
      (n: number) => ({ name: `Tango del Sur ${n}` }),
    ],
  ] as const)('%s: the ETag read changes it; a stale one gets 412; one of two at once wins', async (kind, create, edit) => {
    const owner = await signedIn();
    const made = await request(app().app).post(`/api/v1/${kind}`).set('Authorization', owner.auth).send(create);
    expect(made.status).toBe(201);
    const url = `/api/v1/${kind}/${made.body.data.id}`;
    const read = () => request(app().app).get(url).set('Authorization', owner.auth);
    const patch = (n: number, ifMatch: string) =>
      request(app().app).patch(url).set('Authorization', owner.auth).set('If-Match', ifMatch).send(edit(n));

    const first = await read();
    expect(first.headers.etag).toMatch(/^"[\w-]{27}"$/);
    expect((await patch(1, first.headers.etag as string)).status).toBe(200);
    const stale = await patch(2, first.headers.etag as string);
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('PRECONDITION_FAILED');
    expect((await read()).body.data).toMatchObject(edit(1));

    const current = (await read()).headers.etag as string;
    const statuses = (await Promise.all([patch(3, current), patch(4, current)])).map((res) => res.status).sort();
    expect(statuses).toEqual([200, 412]);
  });
});
