import { describe, expect, it } from 'vitest';
import { changePassword, register } from '../../../contracts/auth';
import { PASSWORD_MAX, PASSWORD_MIN, normalizePassword, passwordProblem } from '../../../server/auth/password-policy';

const none = {};

describe('passwordProblem', () => {
  it('sets the bounds at 8 and 128, the bounds the contracts state for a new password', () => {
    expect(PASSWORD_MIN).toBe(8);
    expect(PASSWORD_MAX).toBe(128);
    const bounds = (schema: unknown) => {
      const json = (schema as { toJSONSchema(): { minLength?: number; maxLength?: number; description?: string } }).toJSONSchema();
      return [json.minLength, json.maxLength, json.description?.startsWith(`${PASSWORD_MIN}–${PASSWORD_MAX} characters`)];
    };
    expect(bounds(register.body!.shape.password)).toEqual([PASSWORD_MIN, PASSWORD_MAX, true]);
    expect(bounds(changePassword.body!.shape.newPassword)).toEqual([PASSWORD_MIN, PASSWORD_MAX, true]);
  });

  it('refuses 7 code points and accepts 8', () => {
    expect(passwordProblem('zq4#vb7', none)).toBe('Use at least 8 characters');
    expect(passwordProblem('zq4#vb7k', none)).toBeNull();
  });

  it('accepts 128 code points and refuses 129', () => {
    const base = 'tango-milonga-vals-'.repeat(7); // 133 chars
    expect(passwordProblem(base.slice(0, 128), none)).toBeNull();
    expect(passwordProblem(base.slice(0, 129), none)).toBe('Use at most 128 characters');
  });

  it('counts an emoji as one character, not two UTF-16 units', () => {
    const sevenEmoji = '💃🕺🎶🌹🍷🌙🎻';
    expect(sevenEmoji.length).toBe(14);
    expect(passwordProblem(sevenEmoji, none)).toBe('Use at least 8 characters');
    expect(passwordProblem(`${sevenEmoji}🪗`, none)).toBeNull();
    const emoji128 = '💃'.repeat(128);
    expect(passwordProblem(emoji128, none)).toBeNull();
    expect(passwordProblem(`${emoji128}💃`, none)).toBe('Use at most 128 characters');
  });

  it('measures the NFKC form', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password');
    // U+FB03 'ﬃ' is one code point that NFKC expands to 'ffi': 6 raw, 8 normalized.
    const ligature = 'x\uFB03zq7w';
    expect([...ligature].length).toBe(6);
    expect(passwordProblem(ligature, none)).toBeNull();
    // Combining sequences compose: 'e' + U+0301 becomes one 'é'.
    const combining = 'cafe\u0301abc';
    expect([...combining].length).toBe(8);
    expect(passwordProblem(combining, none)).toBe('Use at least 8 characters');
  });

  it('refuses common passwords, case-insensitively and after NFKC', () => {
    for (const pw of ['password123', 'qwertyuiop', 'PassWord123', 'ＱＷＥＲＴＹＵＩＯＰ']) {
      const problem = passwordProblem(pw, none);
      expect(problem).toMatch(/too common/);
      expect(problem).toMatch(/breach/);
    }
  });

  it('refuses the username or the display name, case-insensitively', () => {
    const context = { username: 'milonguero88', displayName: 'Carlos Gardel' };
    expect(passwordProblem('Milonguero88', context)).toMatch(/username or display name/);
    expect(passwordProblem('carlos gardel', context)).toMatch(/username or display name/);
    expect(passwordProblem('ＣＡＲＬＯＳ ＧＡＲＤＥＬ', context)).toMatch(/username or display name/);
    expect(passwordProblem('carlos gardel sings', context)).toBeNull();
    expect(passwordProblem('zq4#vb7k', { username: '', displayName: '' })).toBeNull();
  });

  it('accepts a long passphrase without any composition rules', () => {
    expect(passwordProblem('correct horse battery staple under the tango moon', none)).toBeNull();
    expect(passwordProblem('all lowercase words only', none)).toBeNull();
  });
});
