import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { createTestApp } from '../../support/app';
import { describeOnServerBackend } from '../../support/database';

interface Dancer {
  id: string;
  token: string;
}

const hour = 3_600_000;
/** An event that has not ended whenever the suite runs. */
const upcoming = (overrides: object = {}) => ({
  title: 'Milonga de los Jueves',
  kind: 'milonga',
  city: 'Buenos Aires',
  startsAt: new Date(Date.now() + 24 * hour).toISOString(),
  endsAt: new Date(Date.now() + 29 * hour).toISOString(),
  ...overrides,
});

describeOnServerBackend('event RSVPs', (backend) => {
  let database: Database;
  let test: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    database = await backend.open();
    test = await createTestApp(database);
  });
  afterAll(async () => {
    await test.close();
    await database.close();
  });

  async function dancer(): Promise<Dancer> {
    const user = await test.services.userStore.create({
      username: `dancer-${randomUUID().slice(0, 8)}`,
      displayName: 'Test Dancer',
      passwordHash: 'not-a-real-hash',
    });
    if (user === 'taken') throw new Error('username collision');
    return { id: user.id, token: await test.token(user.id) };
  }

  const as = (who: Dancer) => {
    const auth = <T extends { set(name: string, value: string): T }>(req: T) => req.set('Authorization', `Bearer ${who.token}`);
    return {
      get: (path: string, query: Record<string, string | number> = {}) => auth(request(test.app).get(`/api/v1${path}`).query(query)),
      post: (path: string, body: object) => auth(request(test.app).post(`/api/v1${path}`)).send(body),
      patch: (path: string, body: object) => auth(request(test.app).patch(`/api/v1${path}`)).send(body),
      put: (path: string, body: object) => auth(request(test.app).put(`/api/v1${path}`)).send(body),
      delete: (path: string) => auth(request(test.app).delete(`/api/v1${path}`)),
    };
  };

  async function event(organizer: Dancer, overrides: object = {}) {
    const res = await as(organizer).post('/events', upcoming(overrides));
    expect(res.status).toBe(201);
    return res.body.data as { id: string; capacity: number | null; goingCount: number; interestedCount: number };
  }

  const rsvp = (who: Dancer, eventId: string, status: string) => as(who).put(`/events/${eventId}/rsvp`, { status });
  const counts = async (eventId: string) => {
    const { goingCount, interestedCount, capacity } = (await request(test.app).get(`/api/v1/events/${eventId}`)).body.data;
    return { goingCount, interestedCount, capacity };
  };

  it('answers tell the organizer, collapsed into one item per event; their own answer tells nobody', async () => {
    const [organizer, ana, ben] = await Promise.all([dancer(), dancer(), dancer()]);
    const { id } = await event(organizer);
    expect((await rsvp(ana, id, 'going')).status).toBe(200);
    expect((await rsvp(ben, id, 'interested')).status).toBe(200);
    expect((await rsvp(organizer, id, 'going')).status).toBe(200);
    const items = (await as(organizer).get('/notifications')).body.data as { kind: string; target: { id: string }; actorCount: number }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'event_rsvp', target: { type: 'event', id }, actorCount: 2 });
  });

  it('a new event has no limit and no answers', async () => {
    const created = await event(await dancer());
    expect(created).toMatchObject({ capacity: null, goingCount: 0, interestedCount: 0 });
  });

  it('going, then interested, then withdrawn: the answer and the counts follow', async () => {
    const [organizer, ana] = [await dancer(), await dancer()];
    const { id } = await event(organizer);

    const going = await rsvp(ana, id, 'going');
    expect(going.status).toBe(200);
    expect(going.body.data).toEqual({ eventId: id, userId: ana.id, status: 'going', respondedAt: expect.any(String) });
    expect(await counts(id)).toEqual({ goingCount: 1, interestedCount: 0, capacity: null });

    const again = await rsvp(ana, id, 'going');
    expect(again.status).toBe(200);
    expect(again.body.data.respondedAt).toBe(going.body.data.respondedAt);
    expect(await counts(id)).toMatchObject({ goingCount: 1, interestedCount: 0 });

    expect((await rsvp(ana, id, 'interested')).body.data.status).toBe('interested');
    expect(await counts(id)).toMatchObject({ goingCount: 0, interestedCount: 1 });

    const removed = await as(ana).delete(`/events/${id}/rsvp`);
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expect(await counts(id)).toMatchObject({ goingCount: 0, interestedCount: 0 });
    expect((await as(ana).delete(`/events/${id}/rsvp`)).status).toBe(204);
  });

  it('answers 404 for an event that does not exist, and 400 for an unknown status', async () => {
    const ana = await dancer();
    const missing = randomUUID();
    for (const res of [
      await rsvp(ana, missing, 'going'),
      await as(ana).delete(`/events/${missing}/rsvp`),
      await as(ana).get(`/events/${missing}/attendees`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    const { id } = await event(await dancer());
    const maybe = await rsvp(ana, id, 'maybe');
    expect(maybe.status).toBe(400);
    expect(maybe.body.errors[0].path).toBe('/body/status');
  });

  it('needs a signed-in user to answer or to see who answered', async () => {
    const { id } = await event(await dancer());
    expect((await request(test.app).put(`/api/v1/events/${id}/rsvp`).send({ status: 'going' })).status).toBe(401);
    expect((await request(test.app).get(`/api/v1/events/${id}/attendees`)).status).toBe(401);
  });

  it('an event that has ended takes no answers and keeps its list: 409 EVENT_ENDED', async () => {
    const [organizer, ana] = [await dancer(), await dancer()];
    const past = await event(organizer, {
      startsAt: new Date(Date.now() - 5 * hour).toISOString(),
      endsAt: new Date(Date.now() - hour).toISOString(),
    });
    for (const res of [await rsvp(ana, past.id, 'going'), await as(ana).delete(`/events/${past.id}/rsvp`)]) {
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('EVENT_ENDED');
    }
    expect(await counts(past.id)).toMatchObject({ goingCount: 0, interestedCount: 0 });
  });

  it('going past the capacity is 409 EVENT_FULL; interested is not limited; a freed place can be taken', async () => {
    const organizer = await dancer();
    const [ana, ben, cleo] = [await dancer(), await dancer(), await dancer()];
    const { id } = await event(organizer, { capacity: 2 });
    expect((await rsvp(ana, id, 'going')).status).toBe(200);
    expect((await rsvp(ben, id, 'going')).status).toBe(200);

    const full = await rsvp(cleo, id, 'going');
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ code: 'EVENT_FULL', status: 409 });

    expect((await rsvp(cleo, id, 'interested')).status).toBe(200);
    // Moving from interested to going takes a place too.
    expect((await rsvp(cleo, id, 'going')).body.code).toBe('EVENT_FULL');
    // Someone already going who answers going again keeps their place.
    expect((await rsvp(ana, id, 'going')).status).toBe(200);
    expect(await counts(id)).toEqual({ goingCount: 2, interestedCount: 1, capacity: 2 });

    expect((await as(ana).delete(`/events/${id}/rsvp`)).status).toBe(204);
    expect((await rsvp(cleo, id, 'going')).status).toBe(200);
    expect(await counts(id)).toEqual({ goingCount: 2, interestedCount: 0, capacity: 2 });
  });

  it('20 people answering going at once to 5 places: exactly 5 are going', async () => {
    const organizer = await dancer();
    const { id } = await event(organizer, { capacity: 5 });
    const crowd = await Promise.all(Array.from({ length: 20 }, () => dancer()));
    const answers = await Promise.all(crowd.map((who) => rsvp(who, id, 'going')));

    expect(answers.filter((res) => res.status === 200)).toHaveLength(5);
    const refused = answers.filter((res) => res.status !== 200);
    expect(refused).toHaveLength(15);
    for (const res of refused) expect(res.body.code).toBe('EVENT_FULL');
    expect(await counts(id)).toMatchObject({ goingCount: 5 });
    const going = (await as(organizer).get(`/events/${id}/attendees`, { status: 'going' })).body.data;
    expect(going.map((a: { user: { id: string } }) => a.user.id).sort()).toEqual(
      answers.flatMap((res, i) => (res.status === 200 ? [crowd[i]!.id] : [])).sort(),
    );
  });

  it('interested people switching to going at once never exceed the capacity', async () => {
    const organizer = await dancer();
    const { id } = await event(organizer, { capacity: 3 });
    const crowd = await Promise.all(Array.from({ length: 10 }, () => dancer()));
    for (const who of crowd) expect((await rsvp(who, id, 'interested')).status).toBe(200);
    const answers = await Promise.all(crowd.map((who) => rsvp(who, id, 'going')));
    expect(answers.filter((res) => res.status === 200)).toHaveLength(3);
    expect(await counts(id)).toEqual({ goingCount: 3, interestedCount: 7, capacity: 3 });
  });

  it('capacity: bounds on create; lowering it under the people going is 409 CAPACITY_BELOW_GOING', async () => {
    const organizer = await dancer();
    for (const capacity of [0, 100_001, 2.5]) {
      const res = await as(organizer).post('/events', upcoming({ capacity }));
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('/body/capacity');
    }
    const { id } = await event(organizer, { capacity: 3 });
    for (const who of [await dancer(), await dancer()]) await rsvp(who, id, 'going');

    const lower = await as(organizer).patch(`/events/${id}`, { capacity: 1 });
    expect(lower.status).toBe(409);
    expect(lower.body.code).toBe('CAPACITY_BELOW_GOING');
    expect(await counts(id)).toEqual({ goingCount: 2, interestedCount: 0, capacity: 3 });

    expect((await as(organizer).patch(`/events/${id}`, { capacity: 2 })).body.data).toMatchObject({ capacity: 2, goingCount: 2 });
    expect((await rsvp(await dancer(), id, 'going')).body.code).toBe('EVENT_FULL');
    expect((await as(organizer).patch(`/events/${id}`, { capacity: null })).body.data.capacity).toBeNull();
    expect((await rsvp(await dancer(), id, 'going')).status).toBe(200);
  });

  it('lowering the capacity while people answer going: never more going than the capacity, never a 500', async () => {
    const organizer = await dancer();
    const { id } = await event(organizer, { capacity: 10 });
    for (const who of [await dancer(), await dancer()]) await rsvp(who, id, 'going');
    const crowd = await Promise.all(Array.from({ length: 6 }, () => dancer()));
    const [lowered, ...answers] = await Promise.all([
      as(organizer).patch(`/events/${id}`, { capacity: 3 }),
      ...crowd.map((who) => rsvp(who, id, 'going')),
    ]);
    for (const res of [lowered!, ...answers]) expect([200, 409]).toContain(res.status);
    const after = await counts(id);
    expect(after.goingCount).toBeLessThanOrEqual(after.capacity);
    expect(after.goingCount).toBe(2 + answers.filter((res) => res.status === 200).length);
    expect(after.capacity).toBe(lowered!.status === 200 ? 3 : 10);
  });

  it('lists attendees newest answer first, with profiles, filtered by status, a page at a time', async () => {
    const organizer = await dancer();
    const { id } = await event(organizer);
    const people = [await dancer(), await dancer(), await dancer(), await dancer(), await dancer()];
    for (const [i, who] of people.entries()) await rsvp(who, id, i % 2 === 0 ? 'going' : 'interested');

    const seen: { user: { id: string; username: string }; status: string }[] = [];
    let cursor: string | null = null;
    do {
      const res = await as(organizer).get(`/events/${id}/attendees`, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.body.data);
      cursor = res.body.page.nextCursor;
    } while (cursor);
    expect(seen.map((a) => a.user.id)).toEqual(people.map((p) => p.id).reverse());
    expect(seen[0]!.user.username).toMatch(/^dancer-/);
    expect(seen[0]).not.toHaveProperty('user.passwordHash');

    const interested = (await as(organizer).get(`/events/${id}/attendees`, { status: 'interested' })).body.data;
    expect(interested.map((a: { user: { id: string } }) => a.user.id)).toEqual([people[3]!.id, people[1]!.id]);
    expect((await as(organizer).get(`/events/${id}/attendees`, { status: 'maybe' })).status).toBe(400);
  });

  it('the attendee list and its counts leave out people with a block between them and the viewer, either way', async () => {
    const [organizer, ana, ben, cleo] = [await dancer(), await dancer(), await dancer(), await dancer()];
    const { id } = await event(organizer);
    for (const who of [ana, ben, cleo]) await rsvp(who, id, 'going');
    expect((await as(ana).put(`/blocks/${ben.id}`, {})).status).toBe(204);

    const listed = async (viewer: Dancer) =>
      (await as(viewer).get(`/events/${id}/attendees`)).body.data.map((a: { user: { id: string } }) => a.user.id);
    expect(await listed(ana)).toEqual([cleo.id, ana.id]);
    expect(await listed(ben)).toEqual([cleo.id, ben.id]);
    expect(await listed(cleo)).toEqual([cleo.id, ben.id, ana.id]);
    // The counts each sees agree with their list, wherever the event is read; the capacity counts everyone.
    const going = async (viewer: Dancer | null) => {
      const one = viewer ? await as(viewer).get(`/events/${id}`) : await request(test.app).get(`/api/v1/events/${id}`);
      const mine = viewer ? (await as(viewer).get('/users/me/events')).body.data.find((e: { id: string }) => e.id === id) : undefined;
      return [one.body.data.goingCount, mine?.goingCount];
    };
    expect(await going(ana)).toEqual([2, 2]);
    expect(await going(ben)).toEqual([2, 2]);
    expect(await going(cleo)).toEqual([3, 3]);
    expect(await going(null)).toEqual([3, undefined]);
  });

  it('my events: those I organize or answered, newest first, and nobody else’s', async () => {
    const [me, other] = [await dancer(), await dancer()];
    const mine = await event(me);
    const answered = await event(other);
    const withdrawn = await event(other);
    await event(other);
    await rsvp(me, answered.id, 'interested');
    await rsvp(me, withdrawn.id, 'going');
    await as(me).delete(`/events/${withdrawn.id}/rsvp`);
    // Organizing and answering one event lists it once.
    await rsvp(me, mine.id, 'going');

    const first = await as(me).get('/users/me/events', { limit: 1 });
    expect(first.status).toBe(200);
    expect(first.body.data.map((e: { id: string }) => e.id)).toEqual([answered.id]);
    const second = await as(me).get('/users/me/events', { limit: 1, cursor: first.body.page.nextCursor });
    expect(second.body.data.map((e: { id: string }) => e.id)).toEqual([mine.id]);
    expect(second.body.page).toEqual({ nextCursor: null, hasMore: false });
    expect(second.body.data[0]).toMatchObject({ goingCount: 1, interestedCount: 0 });

    expect((await request(test.app).get('/api/v1/users/me/events')).status).toBe(401);
  });

  it('deleting an event with answers removes them from everyone’s events', async () => {
    const [organizer, ana] = [await dancer(), await dancer()];
    const { id } = await event(organizer);
    await rsvp(ana, id, 'going');
    expect((await as(organizer).delete(`/events/${id}`)).status).toBe(204);
    expect((await as(ana).get('/users/me/events')).body.data).toEqual([]);
    expect((await rsvp(ana, id, 'going')).status).toBe(404);
  });

  it('a change of time or place tells everyone who answered, collapsed per event; other edits tell nobody', async () => {
    const [organizer, ana, ben, carla] = await Promise.all([dancer(), dancer(), dancer(), dancer()]);
    const { id } = await event(organizer);
    await rsvp(ana, id, 'going');
    await rsvp(ben, id, 'interested');
    const changes = async (who: Dancer) =>
      (
        (await as(who).get('/notifications')).body.data as {
          kind: string;
          target: { id: string };
          count: number;
          actors: { id: string }[];
        }[]
      )
        .filter((n) => n.kind === 'event_changed' && n.target.id === id)
        .map((n) => ({ count: n.count, actors: n.actors.map((a) => a.id) }));

    expect((await as(organizer).patch(`/events/${id}`, { description: 'Bring dance shoes' })).status).toBe(200);
    expect(await changes(ana)).toEqual([]);
    expect((await as(organizer).patch(`/events/${id}`, { venue: 'Salón Canning' })).status).toBe(200);
    expect((await as(organizer).patch(`/events/${id}`, { startsAt: new Date(Date.now() + 25 * hour).toISOString() })).status).toBe(200);
    for (const who of [ana, ben]) expect(await changes(who)).toEqual([{ count: 2, actors: [organizer.id] }]);
    expect(await changes(carla)).toEqual([]);
    expect(await changes(organizer)).toEqual([]);
  });

  it('deleting an event tells everyone who answered it that it is cancelled', async () => {
    const [organizer, ana, ben] = await Promise.all([dancer(), dancer(), dancer()]);
    const { id } = await event(organizer);
    await rsvp(ana, id, 'going');
    await rsvp(ben, id, 'interested');
    await rsvp(ben, id, 'going');
    expect((await as(organizer).delete(`/events/${id}`)).status).toBe(204);
    for (const who of [ana, ben]) {
      const cancelled = ((await as(who).get('/notifications')).body.data as { kind: string; target: { id: string } }[]).filter(
        (n) => n.kind === 'event_cancelled',
      );
      expect(cancelled).toEqual([expect.objectContaining({ target: { type: 'event', id }, count: 1 })]);
    }
  });
});
