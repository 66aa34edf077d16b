import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque bearer secrets (refresh tokens, reset links). Only the hash is stored, so a database
 * leak doesn't hand out live tokens (RFC 6819 §5.1.4.1.3); 256 random bits make a fast,
 * unsalted SHA-256 safe here, and it stays usable as a unique lookup key.
 */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
