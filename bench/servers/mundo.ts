import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../runtime/server';
import { hashPassword } from '../../server/auth/password-hash';
import { createMundoApp } from '../../server/app';
import { ConfigSchema } from '../../server/config';
import { openDatabase } from '../../server/db/database';
import { createSessionStore } from '../../server/services/sessions';
import { createUserStore } from '../../server/services/users';
import { announce } from '../payload';

/**
 * The whole Mundo Tango app on an in-memory PGlite, seeded for the auth benchmark: one account
 * (`bench` / BENCH_PASSWORD) and N sessions whose refresh tokens go to the file named by argv[2].
 */
export const BENCH_PASSWORD = 'a benchmark passphrase for tango';
const [tokensFile, sessionCount] = [process.argv[2]!, Number(process.argv[3] ?? 2000)];

const database = await openDatabase({});
const user = await createUserStore(database.db).create({
  username: 'bench',
  displayName: 'Bench',
  passwordHash: await hashPassword(BENCH_PASSWORD),
});
if (user === 'taken') throw new Error('unreachable');
const sessions = createSessionStore(database.db);
const tokens: string[] = [];
for (let i = 0; i < sessionCount; i++) tokens.push((await sessions.open({ userId: user.id, device: 'bench' })).refreshToken);
writeFileSync(tokensFile, JSON.stringify(tokens));

const config = ConfigSchema.parse({ NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('hex'), TRUST_PROXY: 'loopback' });
const { app } = await createMundoApp({ config, database, secret: Buffer.from(config.JWT_SECRET!), log: createLogger({ level: 'info' }) });
const server = createServer(app);
server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
