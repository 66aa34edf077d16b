import { hash, parseOptions, type Algorithm } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ARGON2_PARAMS, hashPassword, needsRehash, verifyDummy, verifyPassword } from '../../../server/auth/password-hash';

describe('password hashing', () => {
  // The rest of the suite hashes at a test cost (vitest.config.ts); this file checks the real one.
  beforeAll(() => {
    vi.stubEnv('PASSWORD_HASH_COST', '');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('uses argon2id at the OWASP parameters', async () => {
    expect(ARGON2_PARAMS).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(parseOptions(stored)).toMatchObject({ algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    // The test cost is a test run's only: outside NODE_ENV=test the variable changes nothing.
    vi.stubEnv('PASSWORD_HASH_COST', 'test');
    vi.stubEnv('NODE_ENV', 'production');
    try {
      expect(await hashPassword('correct horse battery staple')).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    } finally {
      vi.stubEnv('PASSWORD_HASH_COST', '');
      vi.stubEnv('NODE_ENV', 'test');
    }
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(await verifyPassword(stored, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(stored, 'Correct horse battery staple')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it('hashes the NFKC form, so fullwidth input verifies against ASCII', async () => {
    const stored = await hashPassword('ｔａｎｇｏｔａｎｇｏ');
    expect(await verifyPassword(stored, 'tangotango')).toBe(true);
  });

  it('returns false for a malformed hash instead of throwing', async () => {
    for (const bad of ['', 'garbage', '$argon2id$v=19$m=19456,t=2,p=1$', '$2b$10$abcdefghijklmnopqrstuu']) {
      await expect(verifyPassword(bad, 'whatever')).resolves.toBe(false);
    }
  });

  it('needsRehash: false for a fresh hash, true for other parameters or garbage', async () => {
    expect(needsRehash(await hashPassword('tangotango'))).toBe(false);
    const weaker = await hash('tangotango', { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 1, parallelism: 1 });
    expect(weaker).toContain('t=1');
    expect(needsRehash(weaker)).toBe(true);
    const argon2i = await hash('tangotango', { ...ARGON2_PARAMS, algorithm: 1 as Algorithm });
    expect(argon2i.startsWith('$argon2i$')).toBe(true);
    expect(needsRehash(argon2i)).toBe(true);
    expect(needsRehash('$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
    expect(needsRehash('$argon2id$v=19$m=19456,t=2,p=4$c2FsdHNhbHQ$aGFzaA')).toBe(true);
    expect(needsRehash('garbage')).toBe(true);
    // The old weaker hash still verifies, so a login can upgrade it.
    expect(await verifyPassword(weaker, 'tangotango')).toBe(true);
  });

  it('verifyDummy resolves false for any input, repeatedly', async () => {
    for (const input of ['', 'password', 'correct horse battery staple', '💃'.repeat(200)]) {
      await expect(verifyDummy(input)).resolves.toBe(false);
    }
  });
});
