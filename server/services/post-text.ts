import { normalizeUsername, USERNAME_PATTERN } from '../../contracts/users';

/** What a post's text names: `@username`s (normalized, as usernames compare) and `#hashtags` (lower-cased). */
export interface ParsedText {
  usernames: string[];
  hashtags: string[];
}

const MAX_MENTIONS = 20;
const MAX_HASHTAGS = 30;

// A mention or hashtag starts a word: not inside an e-mail address, a URL fragment or another tag.
const MENTION = /(?<![\p{L}\p{N}_.@#-])@([\p{L}\p{N}_.-]{1,60})/gu;
const HASHTAG = /(?<![\p{L}\p{N}_&#@/])#([\p{L}\p{N}_]{1,50})/gu;

/** The distinct mentions and hashtags of a text, in order of first use, bounded. */
export function parsePostText(text: string): ParsedText {
  const usernames: string[] = [];
  for (const [, raw] of text.matchAll(MENTION)) {
    // A sentence may end right after a name: "thanks @ana." names ana.
    const name = normalizeUsername(raw!.replace(/[.-]+$/, ''));
    if (USERNAME_PATTERN.test(name) && !usernames.includes(name)) usernames.push(name);
    if (usernames.length === MAX_MENTIONS) break;
  }
  const hashtags: string[] = [];
  for (const [, raw] of text.matchAll(HASHTAG)) {
    const tag = raw!.normalize('NFKC').toLowerCase();
    // "#1" is a number, not a tag.
    if (/\p{L}/u.test(tag) && !hashtags.includes(tag)) hashtags.push(tag);
    if (hashtags.length === MAX_HASHTAGS) break;
  }
  return { usernames, hashtags };
}
