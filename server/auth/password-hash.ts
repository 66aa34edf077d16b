import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Algorithm } from '@node-rs/argon2';
import { normalizePassword } from './password-policy';

/**
 * Argon2id at the OWASP Password Storage Cheat Sheet baseline (m=19 MiB, t=2, p=1).
 * `Algorithm` is a `const enum` in the package's types and `{}` at runtime, and isolatedModules
 * forbids reading ambient const enums, so the numeric member value is spelled out here.
 */
const ARGON2ID = 2 as Algorithm;

export const ARGON2_PARAMS: Readonly<{
  algorithm: Algorithm;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}> = Object.freeze({ algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 });

/**
 * The test suite's cost: the same algorithm at its lowest memory and time, since the suite hashes
 * hundreds of passwords (a quarter of its CPU at the OWASP cost). Only a test run gets it: vitest's
 * config sets PASSWORD_HASH_COST=test, honoured only with NODE_ENV=test; everything else, `npm
 * start` in any environment included, hashes at ARGON2_PARAMS.
 */
const TEST_PARAMS: typeof ARGON2_PARAMS = Object.freeze({ algorithm: ARGON2ID, memoryCost: 1024, timeCost: 1, parallelism: 1 });

/** Read at each use, so a test of the production cost can unset the variable for its file. */
function params(): typeof ARGON2_PARAMS {
  return process.env.NODE_ENV === 'test' && process.env.PASSWORD_HASH_COST === 'test' ? TEST_PARAMS : ARGON2_PARAMS;
}

// The PHC identifier for each numeric Algorithm value, to compare against stored strings.
const PHC_ALGORITHM_NAMES = ['argon2d', 'argon2i', 'argon2id'] as const;

export function hashPassword(password: string): Promise<string> {
  return hash(normalizePassword(password), params());
}

/**
 * The password hash of an account that has no password (one made by signing in with a provider):
 * not a PHC string, so no password ever matches it.
 */
export const UNUSABLE_PASSWORD_HASH = '!no-password';

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  // An account without a password costs a verification too, so timing does not tell it apart.
  if (hash === UNUSABLE_PASSWORD_HASH) return verifyDummy(password);
  try {
    return await verify(hash, normalizePassword(password));
  } catch {
    // A corrupt or foreign hash string must read as "wrong password", not a 500 at login.
    return false;
  }
}

// Parsed by hand rather than with the package's parseOptions so a malformed string can't throw;
// anything unreadable counts as outdated, and the next successful login replaces it.
export function needsRehash(hash: string): boolean {
  const match = /^\$(argon2(?:id|i|d))\$(?:v=\d+\$)?m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
  if (!match) return true;
  const [, algorithm, m, t, p] = match;
  const current = params();
  return (
    algorithm !== PHC_ALGORITHM_NAMES[current.algorithm] ||
    Number(m) !== current.memoryCost ||
    Number(t) !== current.timeCost ||
    Number(p) !== current.parallelism
  );
}

let dummyHash: Promise<string> | undefined;

/**
 * For logins naming an unknown user: run one real verification so the response takes as long as
 * a wrong password for a real account, and timing can't be used to enumerate usernames.
 * The dummy hash is made on first use with the same parameters (the first call therefore pays
 * one extra hash); it is a random secret nobody knows, so it never matches.
 */
export async function verifyDummy(password: string): Promise<false> {
  dummyHash ??= hash(randomBytes(32), params()).catch((error: unknown) => {
    dummyHash = undefined;
    throw error;
  });
  await verifyPassword(await dummyHash, password);
  return false;
}
