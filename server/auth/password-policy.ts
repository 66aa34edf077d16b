import { createRequire } from 'node:module';

/**
 * Password rules after NIST SP 800-63B: length and a breached-password blocklist, nothing else.
 * Composition rules ("one digit, one symbol") are deliberately absent — NIST says SHALL NOT,
 * because they push people towards predictable patterns without adding real entropy.
 */

// 8 is NIST's floor when the password is one factor within MFA; the maximum is well above
// NIST's "at least 64" so passphrases fit, yet bounded so a request can't make us hash megabytes.
export const PASSWORD_MIN = 8,
  PASSWORD_MAX = 128;

// NFKC so that the same password typed on different keyboards/IMEs (fullwidth forms,
// compatibility ligatures, precomposed vs combining accents) is the same secret (800-63B §5.1.1.2).
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

// Case-insensitive comparisons: fold case between two NFKC passes, because lowercasing can
// produce sequences that are not themselves in NFKC form.
function fold(value: string): string {
  return value.normalize('NFKC').toLowerCase().normalize('NFKC');
}

type CommonLanguagePackage = typeof import('@zxcvbn-ts/language-common');

let commonPasswords: Set<string> | undefined;

// Loaded on first use, synchronously through require: the package decompresses ~49k entries at
// import time (~50 ms), which processes that never check a password shouldn't pay for.
function commonPasswordSet(): Set<string> {
  if (!commonPasswords) {
    const require = createRequire(import.meta.url);
    const { dictionary } = require('@zxcvbn-ts/language-common') as CommonLanguagePackage;
    commonPasswords = new Set(dictionary['passwords-common'].map(fold));
  }
  return commonPasswords;
}

export function passwordProblem(password: string, context: { username?: string; displayName?: string }): string | null {
  const normalized = normalizePassword(password);
  // NIST counts one Unicode code point as one character; String#length counts UTF-16 units,
  // which would count an emoji as two.
  const length = [...normalized].length;
  if (length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters`;

  const folded = fold(normalized);
  if (commonPasswordSet().has(folded)) {
    return 'This password is too common: it appears in lists of breached passwords. Choose another one';
  }

  // Trimmed only for this comparison, so 'alice ' can't slip past a user named 'alice'.
  const candidate = folded.trim();
  for (const value of [context.username, context.displayName]) {
    if (value && fold(value).trim() === candidate) {
      return 'Your password must not be the same as your username or display name';
    }
  }
  return null;
}
