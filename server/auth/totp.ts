import { timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/**
 * RFC 6238 TOTP with the parameters every authenticator app supports (SHA1, 6 digits, 30 s);
 * other values are silently ignored by some apps, which then show codes that never match.
 */
const ALGORITHM = 'SHA1';
const DIGITS = 6;
const PERIOD = 30;
// ±1 step tolerates clock drift and the time it takes to type the code (RFC 6238 §5.2).
const WINDOW = 1;

function totpFor(secret: string, account = 'account', issuer?: string): TOTP {
  return new TOTP({
    ...(issuer === undefined ? {} : { issuer }),
    label: account,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD,
    // Throws on a non-base32 secret: that is corrupted server state, not a wrong code.
    secret: Secret.fromBase32(secret),
  });
}

// 20 bytes = 160 bits, the HMAC-SHA1 output size that RFC 4226 §4 recommends for the key.
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function totpUri(secret: string, account: string, issuer = 'Mundo Tango'): string {
  return totpFor(secret, account, issuer).toString();
}

export function currentTotp(secret: string, at: number = Date.now()): string {
  return totpFor(secret).generate({ timestamp: at });
}

/**
 * Returns the matched time step so the caller can store it: a code is valid for up to 90 s,
 * and without remembering the last used step an observed code could be replayed in that window.
 */
export function verifyTotp(secret: string, code: string, lastUsedStep?: number | null): number | null {
  if (!new RegExp(`^[0-9]{${DIGITS}}$`).test(code)) return null;
  const totp = totpFor(secret);
  const now = Date.now();
  const currentStep = totp.counter({ timestamp: now });
  const given = Buffer.from(code);
  let matched: number | null = null;
  // Every candidate is compared, in constant time, so timing reveals neither the code nor which
  // step matched. The latest acceptable step wins, which blocks the most future replays.
  for (let delta = -WINDOW; delta <= WINDOW; delta++) {
    const step = currentStep + delta;
    const expected = Buffer.from(totp.generate({ timestamp: step * PERIOD * 1000 }));
    const equal = timingSafeEqual(expected, given);
    if (equal && (lastUsedStep == null || step > lastUsedStep)) matched = step;
  }
  return matched;
}
