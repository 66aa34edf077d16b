/**
 * One canonical form per username, so look-alike spellings ('ＡＤＭＩＮ', 'Admin', 'admin')
 * can't be registered as different accounts or used to impersonate one another.
 */
export function normalizeUsername(username: string): string {
  // NFKC again after lowercasing: case folding can leave a string that is not in NFKC form.
  return username.normalize('NFKC').toLowerCase().normalize('NFKC').trim();
}

// Applies to the normalized form. ASCII only: it keeps usernames unambiguous in URLs and
// mentions, and rules out mixed-script homoglyphs that NFKC does not fold (e.g. Cyrillic 'а').
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{2,29}$/;

export function usernameProblem(username: string): string | null {
  const normalized = normalizeUsername(username);
  if (USERNAME_PATTERN.test(normalized)) return null;
  const length = [...normalized].length;
  if (length < 3) return 'Use at least 3 characters';
  if (length > 30) return 'Use at most 30 characters';
  // Character set before the first-character rule: a name starting with a Cyrillic or accented
  // letter would otherwise be told to "start with a letter".
  if (/[^a-z0-9_.-]/.test(normalized)) return 'Use only letters a–z, digits, and the characters _ . -';
  return 'Start with a letter or a digit';
}
