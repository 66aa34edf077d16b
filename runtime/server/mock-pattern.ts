import type { Rng } from '../core/seeded-random';

/**
 * Text matching a regular expression, for the mock's made-up values (mock-values.ts): the common
 * subset (classes, groups, alternation, quantifiers, bounded so a `*` gives a few characters), each
 * result checked against the real expression.
 */
type Atom = { chars: string } | { alternatives: Piece[][] };
interface Piece {
  atom: Atom;
  min: number;
  max: number;
}

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const DIGITS = '0123456789';
const WORD_CHARS = `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ${DIGITS}_`;
const CLASS_ESCAPES: Record<string, string> = {
  d: DIGITS,
  w: WORD_CHARS,
  s: ' ',
  D: PRINTABLE.replace(/[0-9]/g, ''),
  W: PRINTABLE.replace(/\w/g, ''),
  S: PRINTABLE.replace(' ', ''),
};

/** A string matching `pattern`, or undefined for what this subset cannot read (lookarounds, backreferences). */
export function matching(pattern: string, rng: Rng): string | undefined {
  const regex = regexOf(pattern);
  if (!regex) return undefined;
  try {
    const pieces = new PatternParser(pattern).sequence();
    for (let attempt = 0; attempt < 10; attempt++) {
      const out = emit(pieces, rng);
      if (regex.test(out)) return out;
    }
  } catch {
    // Not in the subset: the caller falls back to words, and the schema check decides.
  }
  return undefined;
}

const regexes = new Map<string, RegExp | undefined>();

/** The pattern compiled once, or undefined when it does not compile. */
export function regexOf(pattern: string): RegExp | undefined {
  if (!regexes.has(pattern)) {
    let regex: RegExp | undefined;
    try {
      regex = new RegExp(pattern);
    } catch {
      regex = undefined;
    }
    regexes.set(pattern, regex);
  }
  return regexes.get(pattern);
}

function emit(pieces: Piece[], rng: Rng): string {
  let out = '';
  for (const { atom, min, max } of pieces) {
    const count = rng.int(min, max);
    for (let i = 0; i < count; i++) {
      out += 'chars' in atom ? rng.pick(atom.chars) : emit(rng.pick(atom.alternatives), rng);
    }
  }
  return out;
}

class PatternParser {
  private at = 0;
  constructor(private readonly source: string) {}

  /** Alternatives up to the end or a closing parenthesis. */
  sequence(): Piece[] {
    const alternatives: Piece[][] = [[]];
    while (this.at < this.source.length && this.source[this.at] !== ')') {
      const ch = this.source[this.at]!;
      if (ch === '|') {
        this.at++;
        alternatives.push([]);
        continue;
      }
      if (ch === '^' || ch === '$') {
        this.at++;
        continue;
      }
      const atom = this.atom();
      alternatives[alternatives.length - 1]!.push({ atom, ...this.quantifier() });
    }
    return alternatives.length === 1 ? alternatives[0]! : [{ atom: { alternatives }, min: 1, max: 1 }];
  }

  private atom(): Atom {
    const ch = this.source[this.at++]!;
    if (ch === '(') {
      if (this.source[this.at] === '?') {
        if (this.source[this.at + 1] !== ':') throw new Error('lookaround or named group');
        this.at += 2;
      }
      const inner = this.sequence();
      if (this.source[this.at++] !== ')') throw new Error('unclosed group');
      return { alternatives: [inner] };
    }
    if (ch === '[') return { chars: this.charClass() };
    if (ch === '.') return { chars: WORD_CHARS };
    if (ch === '\\') return { chars: this.escape() };
    if ('*+?{'.includes(ch)) throw new Error('quantifier without an atom');
    return { chars: ch };
  }

  private escape(): string {
    const ch = this.source[this.at++];
    if (ch === undefined) throw new Error('trailing backslash');
    if (CLASS_ESCAPES[ch]) return CLASS_ESCAPES[ch];
    if (/[1-9bBpPk]/.test(ch)) throw new Error('unsupported escape');
    if (ch === 'u' || ch === 'x') {
      const length = ch === 'u' ? 4 : 2;
      const code = Number.parseInt(this.source.slice(this.at, this.at + length), 16);
      this.at += length;
      return String.fromCharCode(code);
    }
    return { n: '\n', t: '\t', r: '\r' }[ch] ?? ch;
  }

  private charClass(): string {
    const negated = this.source[this.at] === '^';
    if (negated) this.at++;
    let chars = '';
    while (this.source[this.at] !== ']') {
      if (this.at >= this.source.length) throw new Error('unclosed class');
      let first = this.source[this.at++]!;
      if (first === '\\') {
        const escaped = this.escape();
        if (escaped.length > 1) {
          chars += escaped;
          continue;
        }
        first = escaped;
      }
      if (this.source[this.at] === '-' && this.source[this.at + 1] !== ']') {
        this.at++;
        let last = this.source[this.at++]!;
        if (last === '\\') last = this.escape();
        for (let code = first.charCodeAt(0); code <= last.charCodeAt(0); code++) chars += String.fromCharCode(code);
      } else chars += first;
    }
    this.at++;
    const allowed = negated ? [...PRINTABLE].filter((c) => !chars.includes(c)).join('') : chars;
    if (allowed.length === 0) throw new Error('empty class');
    return allowed;
  }

  private quantifier(): { min: number; max: number } {
    const ch = this.source[this.at];
    let range: { min: number; max: number } = { min: 1, max: 1 };
    if (ch === '?') range = { min: 0, max: 1 };
    else if (ch === '*') range = { min: 0, max: 3 };
    else if (ch === '+') range = { min: 1, max: 4 };
    else if (ch === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.at));
      if (!match) return range;
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] ? Number(match[3]) : min + 3;
      this.at += match[0].length - 1;
      range = { min, max: Math.min(max, min + 8) };
    } else return range;
    this.at++;
    if (this.source[this.at] === '?') this.at++;
    return range;
  }
}
