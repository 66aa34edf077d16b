import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { currentTotp, newTotpSecret, totpUri, verifyTotp } from '../../../server/auth/totp';

// A fixed instant well inside a 30 s step, so "now" can't cross a step boundary mid-test.
const NOW = Date.UTC(2026, 0, 15, 12, 0, 10);
const STEP = Math.floor(NOW / 30_000);

describe('TOTP', () => {
  let secret: string;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    secret = newTotpSecret();
  });
  afterEach(() => vi.useRealTimers());

  it('makes a base32 secret of 20 random bytes', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
  });

  it('matches the RFC 6238 SHA1 test vector', () => {
    // RFC 6238 appendix B: key "12345678901234567890", T=59 s → 94287082 (8 digits); 6 digits → 287082.
    const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(currentTotp(rfcSecret, 59_000)).toBe('287082');
  });

  it('accepts the current code and returns its time step', () => {
    expect(verifyTotp(secret, currentTotp(secret))).toBe(STEP);
  });

  it('accepts codes one step either side, and refuses two steps ago', () => {
    expect(verifyTotp(secret, currentTotp(secret, NOW - 30_000))).toBe(STEP - 1);
    expect(verifyTotp(secret, currentTotp(secret, NOW + 30_000))).toBe(STEP + 1);
    expect(verifyTotp(secret, currentTotp(secret, NOW - 60_000))).toBeNull();
    expect(verifyTotp(secret, currentTotp(secret, NOW + 60_000))).toBeNull();
  });

  it('refuses a replay of the same step, and older steps, given lastUsedStep', () => {
    const code = currentTotp(secret);
    const step = verifyTotp(secret, code);
    expect(step).toBe(STEP);
    expect(verifyTotp(secret, code, step)).toBeNull();
    expect(verifyTotp(secret, currentTotp(secret, NOW - 30_000), step)).toBeNull();
    expect(verifyTotp(secret, currentTotp(secret, NOW + 30_000), step)).toBe(STEP + 1);
    expect(verifyTotp(secret, code, null)).toBe(STEP);
  });

  it('refuses garbage', () => {
    const code = currentTotp(secret);
    for (const bad of ['', 'abcdef', '12345', '1234567', `${code} `, ` ${code}`, `${code.slice(0, 3)} ${code.slice(3)}`, '１２３４５６']) {
      expect(verifyTotp(secret, bad)).toBeNull();
    }
  });

  it('builds an otpauth:// URI with secret, issuer, algorithm, digits and period', () => {
    const uri = new URL(totpUri(secret, 'ana@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Mundo Tango:ana@example.com');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Mundo Tango');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(new URL(totpUri(secret, 'ana', 'Other')).searchParams.get('issuer')).toBe('Other');
  });
});
