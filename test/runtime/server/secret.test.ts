import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, MIN_SECRET_BYTES, resolveSecret } from '../../../runtime/server';

/** The signing secret: one minimum length whether it comes from the environment or the local file. */
let root: string;
let n = 0;
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mundo-tango-secret-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A data directory of its own, holding `contents` as its jwt-secret file when given. */
async function dataDir(contents?: string): Promise<{ dir: string; file: string }> {
  const dir = join(root, `data-${++n}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'jwt-secret');
  if (contents !== undefined) await writeFile(file, contents, { mode: 0o600 });
  return { dir, file };
}

const resolve = (dir: string, value?: string, production = false) =>
  resolveSecret({ name: 'JWT_SECRET', value, production, dataDir: dir, log });

describe('resolveSecret', () => {
  it(`takes JWT_SECRET of at least ${MIN_SECRET_BYTES} bytes, and refuses a shorter one`, async () => {
    const { dir } = await dataDir();
    expect(resolve(dir, 'x'.repeat(MIN_SECRET_BYTES))).toHaveLength(MIN_SECRET_BYTES);
    expect(() => resolve(dir, 'x'.repeat(MIN_SECRET_BYTES - 1))).toThrow(
      new ConfigError(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`),
    );
    expect(() => resolve(dir, '')).toThrow(ConfigError);
  });

  it('requires JWT_SECRET in production', async () => {
    const { dir } = await dataDir();
    expect(() => resolve(dir, undefined, true)).toThrow(/JWT_SECRET is required when NODE_ENV=production/);
  });

  it('creates a random local secret once (mode 0600) and reads it back on the next start', async () => {
    const { dir, file } = await dataDir();
    const first = resolve(dir);
    expect(first).toHaveLength(MIN_SECRET_BYTES);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from(resolve(dir)).equals(Buffer.from(first))).toBe(true);
    expect(Buffer.from(await readFile(file, 'utf8'), 'base64url').equals(Buffer.from(first))).toBe(true);
  });

  it('reads a good local file, with or without a trailing newline or padding', async () => {
    const secret = randomBytes(MIN_SECRET_BYTES + 17);
    for (const text of [secret.toString('base64url'), `${secret.toString('base64url')}\n`, secret.toString('base64')]) {
      const { dir } = await dataDir(text.replaceAll('+', '-').replaceAll('/', '_'));
      expect(Buffer.from(resolve(dir)).equals(secret)).toBe(true);
    }
  });

  it.each([
    [
      'a short secret',
      randomBytes(MIN_SECRET_BYTES - 1).toString('base64url'),
      `holds ${MIN_SECRET_BYTES - 1} bytes, fewer than ${MIN_SECRET_BYTES}`,
    ],
    ['one byte', 'AA', 'holds 1 bytes'],
    ['nothing', '', 'is empty'],
    ['only a newline', '\n', 'is empty'],
    ['text that is not base64url', 'this is not a secret! it has spaces and punctuation...', 'is not base64url'],
  ])('refuses to start with a local file holding %s, naming the file, and leaves the file as it was', async (_name, contents, problem) => {
    const { dir, file } = await dataDir(contents);
    let error: unknown;
    try {
      resolve(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).toContain('set JWT_SECRET');
    expect(await readFile(file, 'utf8')).toBe(contents);
  });

  it('refuses a secret file it cannot read, naming it, rather than writing over it', async () => {
    // A directory where the file should be: unreadable as a file whoever runs the test (root too).
    const { dir, file } = await dataDir();
    await mkdir(file);
    expect(() => resolve(dir)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be read`));
    expect((await stat(file)).isDirectory()).toBe(true);
  });
});
