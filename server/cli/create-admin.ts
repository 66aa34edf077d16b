import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { normalizeUsername, USERNAME_PATTERN } from '../../contracts/users';
import { ConfigError, loadConfig } from '../../runtime/server';
import { hashPassword } from '../auth/password-hash';
import { passwordProblem } from '../auth/password-policy';
import { ConfigSchema } from '../config';
import { openDatabase } from '../db/database';
import { createUserStore } from '../services/users';

/**
 * npm run create-admin -- --username <name> [--display-name "<name>"]
 * Creates the first administrator, or gives an existing account the admin role. The password is
 * read from standard input (never from an argument, which would land in shell history and `ps`).
 * Uses the same configuration as `npm start` (DATABASE_URL or the PGlite files under DATA_DIR).
 */
const { values } = parseArgs({ options: { username: { type: 'string' }, 'display-name': { type: 'string' } } });

try {
  const config = loadConfig(ConfigSchema);
  if (!values.username) throw new ConfigError('--username is required');
  const username = normalizeUsername(values.username);
  if (!USERNAME_PATTERN.test(username)) throw new ConfigError(`"${values.username}" is not a valid username`);

  const database = await openDatabase(config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir: join(config.DATA_DIR, 'pglite') });
  try {
    const users = createUserStore(database.db);
    const existing = await users.findByUsername(username);
    if (existing) {
      await users.setRoles(existing.id, [...new Set([...existing.roles, 'admin' as const])]);
      console.log(`${username} is now an administrator`);
    } else {
      const password = await readPassword();
      const problem = passwordProblem(password, { username, displayName: values['display-name'] });
      if (problem) throw new ConfigError(`password refused: ${problem}`);
      const created = await users.create({
        username,
        displayName: values['display-name'] ?? username,
        passwordHash: await hashPassword(password),
        roles: ['user', 'admin'],
      });
      if (created === 'taken') throw new ConfigError(`${username} was just taken; run the command again`);
      console.log(`created administrator ${username} (${created.id})`);
    }
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
}

async function readPassword(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdin.isTTY ? process.stderr : undefined, terminal: false });
  if (process.stdin.isTTY) process.stderr.write('Password for the administrator: ');
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new ConfigError('no password on standard input');
}
