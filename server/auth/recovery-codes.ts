import { createHash, randomBytes } from 'node:crypto';

/**
 * One-time recovery codes for a lost second factor. Each is 12 symbols from a 32-letter alphabet
 * = 60 bits of crypto randomness; that is beyond online guessing under rate limits, and too much
 * entropy for offline brute force, so a plain SHA-256 suffices for storage (RFC 6819 §5.1.4.1.3).
 */

// Crockford's base32 alphabet, lowercase: drops i, l, o (read as 1, 1, 0) and u.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUPS = 3;
const GROUP_LENGTH = 4;

function newRecoveryCode(): string {
  const length = GROUPS * GROUP_LENGTH;
  // 256 is a multiple of 32, so masking a random byte to 5 bits is unbiased.
  const symbols = [...randomBytes(length)].map((byte) => ALPHABET[byte & 31]).join('');
  const groups: string[] = [];
  for (let i = 0; i < length; i += GROUP_LENGTH) groups.push(symbols.slice(i, i + GROUP_LENGTH));
  return groups.join('-');
}

export function newRecoveryCodes(count = 10): string[] {
  const codes = new Set<string>();
  while (codes.size < count) codes.add(newRecoveryCode());
  return [...codes];
}

// Forgiving about how a person types the code back: case, dashes, spaces, and letters that
// Crockford's alphabet reads as digits (none of them appear in generated codes).
function normalizeRecoveryCode(code: string): string {
  return code.normalize('NFKC').toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalizeRecoveryCode(code)).digest('hex');
}
