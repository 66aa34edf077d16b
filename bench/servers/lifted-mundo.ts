import { randomBytes } from 'node:crypto';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { createLogger, sharedLimiters } from '../../runtime/server';
import { hashPassword } from '../../server/auth/password-hash';
import { createSessionTokens } from '../../server/auth/session-tokens';
import { createMundoApp } from '../../server/app';
import { ConfigSchema } from '../../server/config';
import { openDatabase } from '../../server/db/database';
import { createSessionStore } from '../../server/services/sessions';
import { createUserStore, type UserRecord } from '../../server/services/users';

/** The password of every account `liftedMundo` makes. */
export const BENCH_PASSWORD = 'a benchmark passphrase for tango';

/**
 * The whole Mundo Tango app on an in-memory PGlite with its rate limits lifted (a benchmark sends
 * far more than a person may), and ways to seed it: `account` stores a user (one password hash
 * serves all), `device` opens a session of its own and signs its access token, as a sign-in does.
 */
export async function liftedMundo() {
  const database = await openDatabase({});
  const config = ConfigSchema.parse({ NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('hex'), TRUST_PROXY: 'loopback' });
  const secret = Buffer.from(config.JWT_SECRET!);
  const limiters = sharedLimiters((options) => new RateLimiterMemory({ ...options, points: 1e9 }));
  const mundo = await createMundoApp({ config, database, secret, log: createLogger({ level: 'info' }), limiters });
  const users = createUserStore(database.db);
  const sessions = createSessionStore(database.db);
  const tokens = createSessionTokens({ secret, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  return {
    mundo,
    tokens,
    async account(username: string): Promise<UserRecord> {
      const user = await users.create({ username, displayName: username, passwordHash });
      if (user === 'taken') throw new Error(`${username} is taken`);
      return user;
    },
    /** A session of its own for `user`, and an access token naming it. */
    async device(user: UserRecord): Promise<{ sessionId: string; token: string }> {
      const { session } = await sessions.open({ userId: user.id, device: 'bench' });
      return { sessionId: session.id, token: await tokens.accessToken(user, session.id) };
    },
  };
}
