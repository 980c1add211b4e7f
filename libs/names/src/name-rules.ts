import { createHash } from 'node:crypto';
import unhomoglyph from 'unhomoglyph';

/**
 * One set of rules for the names people read — usernames, group names, email addresses — so that
 * no name can pass for another (Unicode TR 39, "Unicode Security Mechanisms"). Pure functions:
 * the directory applies them to every writer (admin API, logins, User Sync), the same way.
 *
 * - `checkName` normalises a name to NFC and refuses what hides or disguises characters: control,
 *   format and invisible characters (bidirectional overrides and isolates, zero-width spaces and
 *   joiners, variation selectors, tags, fillers, …), unusual spaces, compatibility forms
 *   (fullwidth, styled or circled letters, ligatures), piles of combining marks, and letters of
 *   Latin, Greek and Cyrillic mixed in one name (the scripts whose letters look alike).
 * - `nameSkeleton` is TR 39's skeleton of the name, case-insensitively: two names with the same
 *   skeleton look alike ("alice", "ALICE", "аlice" with a Cyrillic а, "ａｌｉｃｅ"), and
 *   `nameKey` is what a store keeps to find such a name with one indexed lookup.
 */

export type NameKind = 'username' | 'group' | 'email';

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** Printable ASCII (with the plain space for group names): nothing to normalise, no lookalike scripts. */
const PLAIN: Record<NameKind, RegExp> = {
  username: /^[\x21-\x7e]+$/,
  email: /^[\x21-\x7e]+$/,
  group: /^[\x20-\x7e]+$/,
};

/** Characters no name may hold, with what to call them in a refusal; the first that matches names it. */
const HIDDEN: readonly [RegExp, string][] = [
  [/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u, 'a bidirectional control (it changes the order in which a name is shown)'],
  [/[\u200b-\u200d\u2060\ufeff]/u, 'an invisible zero-width character'],
  [/\p{Variation_Selector}/u, 'a variation selector'],
  [/[\u{e0000}-\u{e007f}]/u, 'an invisible tag character'],
  [/\p{Cc}/u, 'a control character'],
  [/[\p{Cf}\p{Default_Ignorable_Code_Point}]/u, 'an invisible or formatting character'],
  [/\p{Cs}/u, 'a lone surrogate'],
  [/\p{Co}/u, 'a private-use character'],
  [/\p{Cn}/u, 'an unassigned code point'],
  [/[\p{Zl}\p{Zp}]/u, 'a line or paragraph separator'],
];
const SPACE = /\p{White_Space}/u;
const LOOKALIKE_SCRIPTS: readonly [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
];

const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
const refuse = (reason: string): NameCheck => ({ ok: false, reason });

/**
 * The name in NFC if it follows the rules, else why not (in words that quote code points, never
 * the characters themselves, so a reason is safe to log and show).
 */
export function checkName(input: string, kind: NameKind): NameCheck {
  if (PLAIN[kind].test(input)) return kind === 'group' ? spacing(input) : { ok: true, name: input };
  if (input.length === 0) return refuse('is empty');
  const name = input.normalize('NFC');
  for (const ch of name) {
    if (ch >= '\x21' && ch <= '\x7e') continue;
    for (const [pattern, what] of HIDDEN) if (pattern.test(ch)) return refuse(`contains ${codePoint(ch)}, ${what}`);
    if (SPACE.test(ch) && (kind !== 'group' || ch !== ' ')) {
      return refuse(kind === 'group' ? `contains ${codePoint(ch)}, a space other than the plain space (U+0020)` : `contains ${codePoint(ch)}, a space`);
    }
    const plain = ch.normalize('NFKC');
    if (plain !== ch) return refuse(`contains ${codePoint(ch)}, a compatibility form (fullwidth, styled or circled letters, ligatures, …) of ${[...plain].map(codePoint).join(' ')}: write the plain character`);
  }
  if (/\p{M}{5}/u.test(name)) return refuse('has more than four combining marks in a row');
  if (/(\p{Mn})\1/u.test(name)) return refuse('has the same combining mark twice in a row');
  // An address is parts (local part, domain labels), each of which may be in its own script.
  for (const part of kind === 'email' ? name.split(/[@.]/) : [name]) {
    const scripts = LOOKALIKE_SCRIPTS.filter(([, letters]) => letters.test(part)).map(([script]) => script);
    if (scripts.length > 1) return refuse(`mixes ${scripts.join(' and ')} letters, which look alike: write it in one of them`);
  }
  return kind === 'group' ? spacing(name) : { ok: true, name };
}

/** Group names may hold spaces, but none that make two names look the same. */
function spacing(name: string): NameCheck {
  if (name.startsWith(' ') || name.endsWith(' ')) return refuse('starts or ends with a space');
  if (name.includes('  ')) return refuse('has two spaces in a row');
  return { ok: true, name };
}

/** TR 39's prototypes: each character replaced by the one it is confusable with (the `unhomoglyph` table). */
const ASCII_PROTOTYPES = Array.from({ length: 128 }, (_, i) => unhomoglyph(String.fromCharCode(i)));
function prototypes(s: string): string {
  if (/[^\x00-\x7f]/.test(s)) return unhomoglyph(s);
  let out = '';
  for (let i = 0; i < s.length; i++) out += ASCII_PROTOTYPES[s.charCodeAt(i)];
  return out;
}

/** Case-insensitive, in NFD (TR 39 compares decomposed text). */
const fold = (s: string) => s.toLowerCase().normalize('NFD');
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * TR 39's skeleton (NFD, default-ignorable characters removed, each character replaced by its
 * prototype, NFD again), made case-insensitive as the directory's names are: folded to lower
 * case before, and again after (some prototypes are capitals: `0` → `O`), with the prototypes
 * applied once more to what folding produced. Equal skeletons: the names look alike. Not for
 * display: "m" becomes "rn".
 */
export function nameSkeleton(name: string): string {
  return fold(prototypes(fold(prototypes(fold(name).replace(IGNORABLE, '')))));
}

/**
 * What a store keeps to find a lookalike with one indexed lookup: the SHA-256 (hex) of the
 * skeleton, a fixed 64 characters whatever the name (a skeleton can be several times longer).
 */
export function nameKey(name: string): string {
  return createHash('sha256').update(nameSkeleton(name)).digest('hex');
}

const UNSHOWABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]|(?! )\p{White_Space}/gu;

/**
 * A name for a message or a log line: in quotes, with every character that would hide or reorder
 * text (controls, format and invisible characters, odd spaces) written as its code point, so a
 * message about a spoofed name cannot itself be spoofed.
 */
export function showName(name: string): string {
  return `"${escapeHidden(name)}"`;
}

/** The name with every character that would hide or reorder text written as `<U+XXXX>` (showName without the quotes). */
export function escapeHidden(name: string): string {
  return name.replace(UNSHOWABLE, (ch) => `<${codePoint(ch)}>`);
}
