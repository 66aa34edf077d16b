import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashToken, newOpaqueToken } from '../../../server/auth/opaque-token';

describe('opaque tokens', () => {
  it('are 43 base64url characters (32 bytes) and distinct', () => {
    const tokens = Array.from({ length: 50 }, newOpaqueToken);
    expect(new Set(tokens).size).toBe(50);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
  });

  it('hash to 64 hex characters of SHA-256, deterministically', () => {
    const token = newOpaqueToken();
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashToken(newOpaqueToken())).not.toBe(hashToken(token));
  });
});
