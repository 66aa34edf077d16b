import { describe, expect, it } from 'vitest';
import { connectionCaps } from '../../../runtime/realtime/connection-caps';

describe('connection caps', () => {
  it('refuse past the cap per address and per user, and count a released socket once', () => {
    const caps = connectionCaps({ perUser: 2, perAddress: 3 });
    caps.hold('s1', 'ana', '10.0.0.1');
    caps.hold('s2', 'ana', '10.0.0.1');
    expect(caps.refusal('10.0.0.1')).toBeUndefined();
    expect(caps.refusal('10.0.0.1', 'ana')).toMatch(/this user \(at most 2\)/);
    expect(caps.refusal('10.0.0.2', 'ben')).toBeUndefined();
    caps.hold('s3', 'ben', '10.0.0.1');
    expect(caps.refusal('10.0.0.1')).toMatch(/this address \(at most 3\)/);

    caps.release('s1', 'ana', '10.0.0.1');
    caps.release('s1', 'ana', '10.0.0.1');
    expect(caps.refusal('10.0.0.1', 'ana')).toBeUndefined();
    caps.hold('s4', 'ana', '10.0.0.1');
    expect(caps.refusal('10.0.0.1')).toBeDefined();
  });
});
