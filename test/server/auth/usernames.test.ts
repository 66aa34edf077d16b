import { describe, expect, it } from 'vitest';
import { USERNAME_PATTERN, normalizeUsername, usernameProblem } from '../../../server/auth/usernames';

describe('normalizeUsername', () => {
  it('maps fullwidth, mixed-case and lowercase spellings to one form', () => {
    expect(normalizeUsername('ＡＤＭＩＮ')).toBe('admin');
    expect(normalizeUsername('Admin')).toBe('admin');
    expect(normalizeUsername('admin')).toBe('admin');
    expect(normalizeUsername('  Admin\t')).toBe('admin');
  });
});

describe('usernameProblem', () => {
  it('accepts valid names, judged on the normalized form', () => {
    for (const name of ['ana', 'carlos.gardel', 'tango_lover-1988', '9lives', 'ＡＮＡ', 'a'.repeat(30)]) {
      expect(usernameProblem(name)).toBeNull();
      expect(USERNAME_PATTERN.test(normalizeUsername(name))).toBe(true);
    }
  });

  it('refuses names that are too short or too long', () => {
    expect(usernameProblem('ab')).toBe('Use at least 3 characters');
    expect(usernameProblem('')).toBe('Use at least 3 characters');
    expect(usernameProblem('a'.repeat(31))).toBe('Use at most 30 characters');
  });

  it('refuses a leading punctuation character', () => {
    for (const name of ['_ana', '.ana', '-ana']) {
      expect(usernameProblem(name)).toBe('Start with a letter or a digit');
    }
  });

  it('refuses characters outside a-z 0-9 _ . -', () => {
    for (const name of ['ana maria', 'josé', 'ana@home', 'аdmin' /* Cyrillic а */]) {
      expect(usernameProblem(name)).toMatch(/Use only/);
    }
    expect(USERNAME_PATTERN.test('Admin')).toBe(false);
  });
});
