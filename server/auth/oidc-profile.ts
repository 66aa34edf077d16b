import { randomBytes, randomInt } from 'node:crypto';
import { USERNAME_PATTERN } from './usernames';

/**
 * What a new account takes from the provider's claims: a username (made from preferred_username,
 * the verified email's local part or the name, in our alphabet), a display name and the email when
 * the provider says it is verified. Claims are the provider's words, so each is cleaned to what the
 * database and the contracts accept (well-formed text, no control characters, bounded).
 */

const DISPLAY_NAME_MAX = 80;
const EMAIL_MAX = 320;

/** The usernames to try for a new account, in order: the one made from the claims, then variations of it. */
export function usernameCandidates(claims: Record<string, unknown>): string[] {
  const email = verifiedEmail(claims);
  const base =
    [text(claims.preferred_username), email?.slice(0, email.lastIndexOf('@')), text(claims.name)].map(slug).find((s) => s.length > 0) ??
    'dancer';
  const stem = base.slice(0, 25).replace(/[._-]+$/, '');
  const candidates = base.length >= 3 ? [base] : [];
  for (let i = 0; i < 4; i++) candidates.push(`${stem}-${randomInt(1000, 10000)}`);
  candidates.push(`dancer-${randomBytes(6).toString('hex')}`);
  return candidates.filter((candidate) => USERNAME_PATTERN.test(candidate));
}

/** The name shown for a new account: the provider's name for the person, else the username. */
export function displayNameOf(claims: Record<string, unknown>, username: string): string {
  for (const value of [claims.name, claims.preferred_username]) {
    const cleaned = text(value)?.replace(/\s+/g, ' ').trim();
    if (cleaned) return cut(cleaned, DISPLAY_NAME_MAX).trim();
  }
  return username;
}

/** The email, when the provider says it is verified (a boolean, or the string some providers send). */
export function verifiedEmail(claims: Record<string, unknown>): string | undefined {
  if (claims.email_verified !== true && claims.email_verified !== 'true') return undefined;
  const email = text(claims.email)?.trim();
  return email && email.length <= EMAIL_MAX && /^[^\s@]+@[^\s@]+$/.test(email) ? email : undefined;
}

/** A string claim as text the database takes: well-formed, without control characters; undefined otherwise. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value
    .slice(0, 1000)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/\p{Cc}/gu, '');
}

/** Letters without their accents, lowercased; every run of anything else one separator; 30 characters at most. */
function slug(value: string | undefined): string {
  if (!value) return '';
  return value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '.')
    .replace(/[._-]{2,}/g, (run) => run[0]!)
    .replace(/^[._-]+/, '')
    .slice(0, 30)
    .replace(/[._-]+$/, '');
}

/** At most `max` UTF-16 units, never half a surrogate pair. */
function cut(value: string, max: number): string {
  let out = '';
  for (const char of value) {
    if (out.length + char.length > max) break;
    out += char;
  }
  return out;
}
