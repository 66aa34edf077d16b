/**
 * The SQLSTATE of a database error, whichever driver raised it (pg's errors carry it, Drizzle wraps
 * them as the `cause` of its own): `23505` unique violation, `23503` foreign-key violation.
 */
export function sqlState(error: unknown): string | undefined {
  for (let current = error; current && typeof current === 'object'; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
