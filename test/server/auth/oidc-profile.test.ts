import { describe, expect, it } from 'vitest';
import { displayNameOf, usernameCandidates, verifiedEmail } from '../../../server/auth/oidc-profile';
import { USERNAME_PATTERN } from '../../../server/auth/usernames';

/** What a new account takes from a provider's claims (server/auth/oidc-profile.ts). */
describe('a new account’s username', () => {
  it('comes from preferred_username, else the verified email’s local part, else the name, in our alphabet', () => {
    expect(usernameCandidates({ preferred_username: 'Ana María Pérez', name: 'x' })[0]).toBe('ana.maria.perez');
    expect(usernameCandidates({ email: 'Carlos.Gavito+tango@example.org', email_verified: true, name: 'x' })[0]).toBe(
      'carlos.gavito.tango',
    );
    // An unverified email names nothing.
    expect(usernameCandidates({ email: 'ceo@example.org', email_verified: false, name: 'Juan D’Arienzo' })[0]).toBe('juan.d.arienzo');
    expect(usernameCandidates({ name: '  __Tango__  ' })[0]).toBe('tango');
  });

  it('is always a valid username, then variations of it, then a random one', () => {
    for (const claims of [
      {},
      { name: '株式会社' },
      { preferred_username: 'ab' },
      { preferred_username: 'x'.repeat(80) },
      { name: '\u0000\ud800' },
    ]) {
      const candidates = usernameCandidates(claims);
      expect(candidates.length, JSON.stringify(claims)).toBeGreaterThanOrEqual(5);
      for (const candidate of candidates) expect(candidate).toMatch(USERNAME_PATTERN);
    }
    expect(usernameCandidates({ preferred_username: 'ab' })[0]).toMatch(/^ab-\d{4}$/);
    expect(usernameCandidates({ preferred_username: 'x'.repeat(80) })[0]).toBe('x'.repeat(30));
    expect(usernameCandidates({ preferred_username: 'x'.repeat(80) })[1]).toMatch(/^x{25}-\d{4}$/);
    expect(usernameCandidates({}).at(-1)).toMatch(/^dancer-[0-9a-f]{12}$/);
  });
});

describe('a new account’s display name and kept email', () => {
  it('takes the name, cleaned and cut to 80 characters without splitting a character', () => {
    expect(displayNameOf({ name: '  Ana \n Pérez\u0000 ' }, 'ana')).toBe('Ana Pérez');
    const long = displayNameOf({ name: `${'a'.repeat(79)}😀` }, 'ana');
    expect(long).toBe('a'.repeat(79));
    expect(displayNameOf({ name: '\ud800' }, 'ana')).toBe('\ufffd');
    expect(displayNameOf({}, 'ana.perez')).toBe('ana.perez');
  });

  it('keeps an email only when the provider says it is verified', () => {
    expect(verifiedEmail({ email: 'ana@example.org', email_verified: true })).toBe('ana@example.org');
    expect(verifiedEmail({ email: 'ana@example.org', email_verified: 'true' })).toBe('ana@example.org');
    expect(verifiedEmail({ email: 'ana@example.org', email_verified: false })).toBeUndefined();
    expect(verifiedEmail({ email: 'ana@example.org' })).toBeUndefined();
    expect(verifiedEmail({ email: 'not an email', email_verified: true })).toBeUndefined();
  });
});
