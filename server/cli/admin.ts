import { Console } from 'node:console';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { normalizeUsername, USERNAME_PATTERN } from '../../contracts/users';
// By file, and the database, the stores and the password hashing loaded only once the arguments
// and configuration are good: a mistyped command is refused at once.
import { ConfigError, loadConfig } from '../../runtime/server/config';
import { ConfigSchema } from '../config';
import { DataDirInUseError } from '../db/data-dir';
import type { Database } from '../db/database';

export interface CreateAdminIo {
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** A database already open, left open (tests); by default the one the configuration names. */
  database?: Database;
}

/**
 * npm run create-admin -- --username <name> [--display-name "<name>"]
 * Creates the first administrator, or gives an existing account the admin role. The password is
 * read from standard input (never from an argument, which would land in shell history and `ps`).
 * Uses the same configuration as `npm start` (DATABASE_URL or the PGlite files under DATA_DIR).
 * Returns the exit code.
 */
export async function createAdmin(args: string[], io: CreateAdminIo): Promise<number> {
  const console = new Console({ stdout: io.stdout, stderr: io.stderr });
  try {
    const { values } = parseArgs({ args, options: { username: { type: 'string' }, 'display-name': { type: 'string' } } });
    const config = loadConfig(ConfigSchema, io.env);
    if (!values.username) throw new ConfigError('--username is required');
    const username = normalizeUsername(values.username);
    if (!USERNAME_PATTERN.test(username)) throw new ConfigError(`"${values.username}" is not a valid username`);

    const [{ openDatabase }, { createUserStore }, { hashPassword }, { passwordProblem }] = await Promise.all([
      import('../db/database'),
      import('../services/users'),
      import('../auth/password-hash'),
      import('../auth/password-policy'),
    ]);
    const database =
      io.database ??
      (await openDatabase(config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir: join(config.DATA_DIR, 'pglite') }));
    try {
      const users = createUserStore(database.db);
      const existing = await users.findByUsername(username);
      if (existing) {
        await users.setRoles(existing.id, [...new Set([...existing.roles, 'admin' as const])]);
        console.log(`${username} is now an administrator`);
      } else {
        const password = await readPassword(io);
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
      if (!io.database) await database.close();
    }
    return 0;
  } catch (error) {
    // Mistakes an operator can fix (a server holding the data directory, say) get one line.
    console.error(error instanceof ConfigError || error instanceof DataDirInUseError ? error.message : error);
    return 1;
  }
}

async function readPassword(io: CreateAdminIo): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stdin.isTTY ? io.stderr : undefined, terminal: false });
  if (io.stdin.isTTY) io.stderr.write('Password for the administrator: ');
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new ConfigError('no password on standard input');
}
