import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from '../../../runtime/contract';
import type { HandlerFor, RouteDefinition } from '../../../runtime/server';
import { createFixture, expectProblem } from './fixture';

/**
 * `auth: 'optional'`: anyone may call; a caller who sends a token is recognised, and a token that
 * is bad or expired is refused as for a signed-in operation (never silently treated as anonymous).
 */
const greet = endpoint({
  method: 'GET',
  version: 1,
  path: '/greeting',
  operationId: 'greet',
  summary: 'Greets the caller',
  tags: ['greetings'],
  auth: 'optional',
  response: { status: 200, body: z.object({ hello: z.string().max(100) }) },
});

const handler: HandlerFor<typeof greet, object> = (_input, { user }) => ({ hello: user ? user.id : 'stranger' });
const extra: RouteDefinition = { endpoint: greet, handler };

describe("auth: 'optional'", () => {
  const fixture = createFixture();
  const app = createFixture({ routes: [extra] }).app;

  it('answers a caller without a token as anonymous, and one with a token as themselves', async () => {
    expect((await request(app).get('/api/v1/greeting')).body).toEqual({ data: { hello: 'stranger' } });
    const token = await fixture.token('dancer-7');
    expect((await request(app).get('/api/v1/greeting').set('Authorization', `Bearer ${token}`)).body).toEqual({
      data: { hello: 'dancer-7' },
    });
  });

  it('refuses a bad token or a malformed Authorization header instead of ignoring it', async () => {
    expectProblem(await request(app).get('/api/v1/greeting').set('Authorization', 'Bearer not-a-token'), 401, 'UNAUTHENTICATED');
    expectProblem(await request(app).get('/api/v1/greeting').set('Authorization', 'Basic dXNlcjpwdw=='), 401, 'UNAUTHENTICATED');
  });
});
