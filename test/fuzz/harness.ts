import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { createTokenSigner, sharedLimiters } from '../../runtime/server';
import { createMundoApp } from '../../server/app';
import { ConfigSchema } from '../../server/config';
import type { Database } from '../../server/db/database';
import { openTestDatabase } from '../support/database';
import { captureLog, TEST_SECRET } from '../support/app';

/** One HTTP exchange as the fuzzer sends it: the path and query already encoded, the body as bytes. */
export interface FuzzRequest {
  method: string;
  /** Encoded path, e.g. `/api/v1/users/%00`. */
  path: string;
  /** Encoded query without `?`, possibly empty. */
  query: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * The app as `npm start` builds it, on an in-memory PGlite, served on an ephemeral port.
 *
 * Rate limits are lifted (one memory limiter per policy with a billion points, as bench/ does):
 * the fuzzer sends hundreds of requests per operation from one address and one user, and a 429 on
 * every case after the tenth would test the limiter instead of the operation. The limiter itself
 * is tested in test/server; a 429, were it sent anyway, is a documented answer.
 */
export async function startFuzzApp() {
  const database: Database = await openTestDatabase();
  const config = ConfigSchema.parse({ NODE_ENV: 'test' });
  const { log, lines } = captureLog();
  const limiters = sharedLimiters((options) => new RateLimiterMemory({ ...options, points: 1e9 }));
  const mundo = await createMundoApp({ config, database, secret: TEST_SECRET, log, limiters });
  const server: Server = createServer(mundo.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  // One keep-alive connection pool for the whole run: a new TCP connection per request cost more
  // than many of the requests themselves.
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  function send(req: FuzzRequest): Promise<FuzzResponse> {
    const path = req.path + (req.query ? `?${req.query}` : '');
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = req.body.length;
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port, method: req.method, path, headers, agent, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer in 10 s: ${req.method} ${path}`)));
      outgoing.on('error', reject);
      outgoing.end(req.body);
    });
  }

  // Operations that need a role are called with a token that carries it (the app reads roles from it).
  const signer = createTokenSigner({ secret: TEST_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlSeconds: 900 });
  return {
    send,
    port,
    /** Gives a user every role and a token that says so (role-gated operations read the roles from the database). */
    async privileged(userId: string): Promise<string> {
      const roles = ['user', 'moderator', 'admin'] as const;
      await mundo.services.userStore.setRoles(userId, [...roles]);
      return signer.sign({ sub: userId, roles: [...roles], sid: randomUUID() });
    },
    logLines: lines,
    async close() {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mundo.close();
      await database.close();
    },
  };
}

export type FuzzApp = Awaited<ReturnType<typeof startFuzzApp>>;

export interface Account {
  userId: string;
  username: string;
  password: string;
  accessToken: string;
}

/**
 * Signed-in users for the operations that need a bearer token. Some operations end the session
 * they are called with (logout, revoking the current session, a reused refresh token): after a
 * 401 UNAUTHENTICATED the account is dropped and the next request signs up a fresh one.
 */
export class Accounts {
  private current: Promise<Account> | undefined;
  private admin: Promise<Account> | undefined;
  private token: string | undefined;
  readonly all: Account[] = [];

  constructor(private readonly app: FuzzApp) {}

  /**
   * The account in use; requests running at once share one sign-up. The first time, a second
   * user signs up too, so that operations relating people (a conversation) have someone else.
   */
  get(): Promise<Account> {
    if (!this.current) {
      this.current = this.all.length === 0 ? this.register().then(() => this.register()) : this.register();
      this.current.then((a) => (this.token = a.accessToken)).catch(() => (this.current = undefined));
    }
    return this.current;
  }

  /**
   * An account with every role, for the operations that need one. It is kept out of `all`, so no
   * request names it: a revokeRole the fuzzer sends never takes its roles away mid-run.
   */
  privileged(): Promise<Account> {
    this.admin ??= this.register(false).then(async (account) => ({ ...account, accessToken: await this.app.privileged(account.userId) }));
    return this.admin;
  }

  drop(token: string): void {
    if (this.token === token) {
      this.current = undefined;
      this.token = undefined;
    }
  }

  /** Sign-up as in test/server/handlers/auth.test.ts: the one request the fuzzer knows by heart. */
  private async register(named = true): Promise<Account> {
    const username = `fuzz-${randomUUID().slice(0, 8)}`;
    const password = `milonga de los jueves ${randomUUID().slice(0, 8)}`;
    const body = Buffer.from(JSON.stringify({ username, password, displayName: 'Fuzz Dancer' }));
    const res = await this.app.send({
      method: 'POST',
      path: '/api/v1/auth/register',
      query: '',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    if (res.status !== 201) throw new Error(`Signing up a fuzz account failed: ${res.status} ${res.body.toString('utf8').slice(0, 500)}`);
    const data = (JSON.parse(res.body.toString('utf8')) as { data: { accessToken: string; user: { id: string } } }).data;
    const account = { userId: data.user.id, username, password, accessToken: data.accessToken };
    if (named) this.all.push(account);
    return account;
  }
}
