import { describe, expect, it } from 'vitest';
import { hashRecoveryCode, newRecoveryCodes } from '../../../server/auth/recovery-codes';

describe('recovery codes', () => {
  it('makes 10 distinct, human-formatted codes by default', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      // 12 symbols × 5 bits = 60 bits; no i, l, o, u.
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    }
    expect(newRecoveryCodes(3)).toHaveLength(3);
  });

  it('hashes to SHA-256 hex, ignoring case, dashes and spaces', () => {
    const hashed = hashRecoveryCode('k7qm-2xfd-9wrp');
    expect(hashed).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode('K7QM-2XFD-9WRP')).toBe(hashed);
    expect(hashRecoveryCode('k7qm2xfd9wrp')).toBe(hashed);
    expect(hashRecoveryCode(' k7qm 2xfd 9wrp ')).toBe(hashed);
    expect(hashRecoveryCode('k7qm-2xfd-9wrq')).not.toBe(hashed);
  });

  it('reads confusable letters as the digits they resemble', () => {
    expect(hashRecoveryCode('1o00-abcd-efgh')).toBe(hashRecoveryCode('1000-abcd-efgh'));
    expect(hashRecoveryCode('l100-abcd-efgh')).toBe(hashRecoveryCode('1100-abcd-efgh'));
  });
});
