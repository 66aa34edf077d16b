import { randomUUID, webcrypto } from 'node:crypto';
import { jwtVerify } from 'jose';

/** The request every HTTP benchmark sends: a 195-byte event, validated by the real NewEvent schema. */
export const eventBody = JSON.stringify({
  title: 'Milonga de los Jueves',
  kind: 'milonga',
  city: 'Buenos Aires',
  country: 'Argentina',
  venue: 'Salón Canning, Scalabrini Ortiz 1331',
  startsAt: '2026-12-03T22:00:00.000Z',
  endsAt: '2026-12-04T03:00:00.000Z',
});

export const BENCH_PATH = '/api/v1/events';
const organizerId = randomUUID();

/** What every server answers: the stored event, as the handler of createEvent would. */
export function storedEvent(input: Record<string, unknown>) {
  const now = new Date().toISOString();
  return {
    description: '',
    country: null,
    venue: null,
    capacity: null,
    groupId: null,
    ...input,
    id: randomUUID(),
    organizerId,
    goingCount: 0,
    interestedCount: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/** Servers print this line once listening, so the runner learns the port. */
export function announce(port: number): void {
  process.stdout.write(`READY ${port}\n`);
}

/** The GET scenario's answer: a page of 20 stored events (the same on every server). */
export const PAGE_PATH = '/api/v1/events?limit=20';
export const eventPage = Array.from({ length: 20 }, (_, i) =>
  storedEvent({
    title: `Milonga ${i + 1}`,
    kind: 'milonga',
    city: 'Buenos Aires',
    startsAt: '2026-12-03T22:00:00.000Z',
    endsAt: '2026-12-04T03:00:00.000Z',
  }),
);
/** The next page's position, as every server hands it out (the runtime signs it into its cursor). */
export const nextKey = { createdAt: new Date(eventPage[19]!.createdAt), id: eventPage[19]!.id };

/** The authenticated scenario: one event (by a UUID path parameter), for a caller with a valid HS256 access token. */
export const AUTH_PATH = '/api/v1/events/0b6f1c1e-8d5e-4a57-9a43-6d0a4b1f2c3d';
/** The token's settings: the runner signs a token with them and passes the secret to the servers. */
export const TOKEN = { issuer: 'bench', audience: 'bench' } as const;
export const benchSecret = () => new TextEncoder().encode(process.env.BENCH_JWT_SECRET ?? '');

/** The peers' bearer check: an HS256 token with the bench's issuer and audience (jose). */
export function bearerChecker() {
  // The key imported once, as the runtime does (runtime/server/auth.ts): the bytes would be imported per token.
  const key = webcrypto.subtle.importKey('raw', benchSecret(), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  return async (authorization: string | undefined): Promise<boolean> => {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token) return false;
    return jwtVerify(token, await key, { ...TOKEN, algorithms: ['HS256'] }).then(
      () => true,
      () => false,
    );
  };
}
