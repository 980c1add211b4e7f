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
 * - `nameKeys` adds the key of the name as it is written (a capital I is an l: "biII" shows as
 *   "bill"), and `looksAlike` is the rule a store applies with both: any key of one name is any
 *   key of the other.
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
  // Visible characters by their properties, blank on screen: braille pattern blank, musical
  // symbol null notehead, Khitan small script filler (the Hangul fillers are default-ignorable).
  [/[\u2800\u{1D159}\u{16FE4}]/u, 'a blank character (it shows as a space or as nothing)'],
];
const SPACE = /\p{White_Space}/u;
/**
 * A dot above (U+0307) on a letter whose own dot it replaces (TR 39 §5.4; the soft-dotted letters
 * i, j, і, ј, … and the dotless ı, ȷ), marks below in between: it shows as the plain letter.
 */
const HIDDEN_DOT = /([\p{Soft_Dotted}\u0131\u0237])\p{M}*?([\u0307\u0358\u08CE\u08EA\u1DF8\u{10F48}\u{10F82}])/u;
/** The combining marks that put one dot above a letter, by name (what HIDDEN_DOT looks for). */
const DOT_ABOVE: Readonly<Record<string, string>> = {
  '\u0307': 'combining dot above',
  '\u0358': 'combining dot above right',
  '\u08CE': 'Arabic large round dot above',
  '\u08EA': 'Arabic tone one dot above',
  '\u1DF8': 'combining dot above left',
  '\u{10F48}': 'Sogdian combining dot above',
  '\u{10F82}': 'Old Uyghur combining dot above',
};
/** The longest name of each kind, counted in UTF-16 code units of its NFC (what the columns hold, what the APIs allow). */
export const NAME_MAX_LENGTH: Readonly<Record<NameKind, number>> = { username: 255, group: 255, email: 320 };
/** A combining mark of one script (not one shared by all: Inherited, Common). */
const MARK = /\p{M}/u;
const SHARED = /[\p{Script=Inherited}\p{Script=Common}]/u;
const LOOKALIKE_SCRIPTS: readonly [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
];
/** The characters a script uses, its marks included (Script_Extensions: a mark several scripts share counts for each). */
const USED_BY: Readonly<Record<string, RegExp>> = {
  Latin: /\p{Script_Extensions=Latin}/u,
  Greek: /\p{Script_Extensions=Greek}/u,
  Cyrillic: /\p{Script_Extensions=Cyrillic}/u,
};

const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
const refuse = (reason: string): NameCheck => ({ ok: false, reason });

/**
 * The name in NFC if it follows the rules, else why not (in words that quote code points, never
 * the characters themselves, so a reason is safe to log and show).
 */
export function checkName(input: string, kind: NameKind): NameCheck {
  const max = NAME_MAX_LENGTH[kind];
  const tooLong = (name: string) => refuse(`is longer than ${max} characters (${name.length} in NFC)`);
  if (PLAIN[kind].test(input)) return input.length > max ? tooLong(input) : kind === 'group' ? spacing(input) : { ok: true, name: input };
  if (input.length === 0) return refuse('is empty');
  // The limit holds for the name as stored: NFC can make a name longer (U+FB2C is three code units in NFC).
  const name = input.normalize('NFC');
  if (name.length > max) return tooLong(name);
  // So is its lower case (the lookup column): İ is two code units (i + U+0307) in lower case.
  const lower = name.toLowerCase().length;
  if (lower > max) return refuse(`is longer than ${max} characters in lower case (${lower})`);
  for (const ch of name) {
    if (ch >= '\x21' && ch <= '\x7e') continue;
    for (const [pattern, what] of HIDDEN) if (pattern.test(ch)) return refuse(`contains ${codePoint(ch)}, ${what}`);
    if (SPACE.test(ch) && (kind !== 'group' || ch !== ' ')) {
      return refuse(kind === 'group' ? `contains ${codePoint(ch)}, a space other than the plain space (U+0020)` : `contains ${codePoint(ch)}, a space`);
    }
    const plain = ch.normalize('NFKC');
    if (plain !== ch)
      return refuse(
        `contains ${codePoint(ch)}, a compatibility form (fullwidth, styled or circled letters, ligatures, …) of ${[...plain].map(codePoint).join(' ')}: write the plain character`,
      );
  }
  // Marks are counted decomposed: ċ with a second dot above is two dots on a c.
  const marks = name.normalize('NFD');
  if (/\p{M}{5}/u.test(marks)) return refuse('has more than four combining marks in a row');
  if (/(\p{Mn})\1/u.test(marks)) return refuse('has the same combining mark twice in a row');
  const dot = HIDDEN_DOT.exec(marks);
  if (dot)
    return refuse(
      `contains ${codePoint(dot[2])} (${DOT_ABOVE[dot[2]]}) on ${codePoint(dot[1])}, a letter with a dot of its own: it looks like the plain letter`,
    );
  // An address is parts (local part, domain labels), each of which may be in its own script.
  for (const part of kind === 'email' ? name.split(/[@.]/) : [name]) {
    const scripts = LOOKALIKE_SCRIPTS.filter(([, letters]) => letters.test(part)).map(([script]) => script);
    if (scripts.length > 1) return refuse(`mixes ${scripts.join(' and ')} letters, which look alike: write it in one of them`);
    // A mark of another script (a Sogdian dot, a Cyrillic titlo) on these letters is a mix too.
    const foreign = scripts.length === 1 ? [...part].find((ch) => MARK.test(ch) && !SHARED.test(ch) && !USED_BY[scripts[0]].test(ch)) : undefined;
    if (foreign) return refuse(`puts ${codePoint(foreign)}, a combining mark of another script, on ${scripts[0]} letters: write it in one script`);
  }
  return kind === 'group' ? spacing(name) : { ok: true, name };
}

/** Group names may hold spaces, but none that make two names look the same. */
function spacing(name: string): NameCheck {
  if (name.startsWith(' ') || name.endsWith(' ')) return refuse('starts or ends with a space');
  if (name.includes('  ')) return refuse('has two spaces in a row');
  return { ok: true, name };
}

/**
 * Prototypes the bundled table (`unhomoglyph` 1.0.6: confusables.txt 13.0) gets wrong, as Unicode's
 * current confusables.txt (17.0) has them. A change here changes stored keys: see docs/adr/0002.
 */
const OVERRIDES: Readonly<Record<string, string>> = {
  '\u04CF': 'l', // CYRILLIC SMALL LETTER PALOCHKA: l in 17.0 (13.0 said i; its capital Ӏ was l in both)
  '\uA7FE': 'l', // LATIN EPIGRAPHIC LETTER I LONGA: l in 17.0 (13.0 has no entry for it)
};
const OVERRIDDEN = new RegExp(`[${Object.keys(OVERRIDES).join('')}]`, 'gu');

/** TR 39's prototypes: each character replaced by the one it is confusable with (the `unhomoglyph` table, with the overrides). */
const ASCII_PROTOTYPES = Array.from({ length: 128 }, (_, i) => unhomoglyph(String.fromCharCode(i)));
function prototypes(s: string): string {
  if (/[^\x00-\x7f]/.test(s)) return unhomoglyph(s.replace(OVERRIDDEN, (ch) => OVERRIDES[ch]));
  let out = '';
  for (let i = 0; i < s.length; i++) out += ASCII_PROTOTYPES[s.charCodeAt(i)];
  return out;
}

/** Case-insensitive, in NFD (TR 39 compares decomposed text). */
const fold = (s: string) => s.toLowerCase().normalize('NFD');
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
/** A dot above on a letter with a dot of its own shows nothing (the lower case of İ is i + U+0307). */
const DOT_ON_DOTTED = /(\p{Soft_Dotted})\u0307/gu;

/**
 * TR 39's skeleton of a name as it is written (NFD, default-ignorable characters removed, each
 * character replaced by its prototype, NFD again), then folded to lower case, with the prototypes
 * applied once more to what folding produced (some prototypes are capitals: `0` → `O`). The
 * prototypes come first, so a capital I is an l, as it looks.
 */
function skeleton(s: string): string {
  return fold(prototypes(fold(prototypes(s.normalize('NFD').replace(IGNORABLE, ''))))).replace(DOT_ON_DOTTED, '$1');
}

/**
 * TR 39's skeleton of the name in lower case (TR 39's case-insensitive skeleton): equal skeletons,
 * the names look alike whatever their case ("alice", "ALICE", "аlice" with a Cyrillic а). Not for
 * display: "m" becomes "rn".
 */
export function nameSkeleton(name: string): string {
  return skeleton(fold(name));
}

/**
 * What a store keeps to find a lookalike with one indexed lookup: the SHA-256 (hex) of the
 * skeleton, a fixed 64 characters whatever the name (a skeleton can be several times longer).
 */
export function nameKey(name: string): string {
  return hash(nameSkeleton(name));
}

const hash = (skeleton: string) => createHash('sha256').update(skeleton).digest('hex');

/**
 * A name's two lookalike keys: `folded`, the key of its skeleton in lower case (`nameKey`), and
 * `shown`, the key of its skeleton as written — the prototypes before any case folding, so
 * "biII" (capital I's) is keyed as "bill", which folded first it is not ("biii"). Both are kept;
 * see `looksAlike`.
 */
export interface NameKeys {
  folded: string;
  shown: string;
}

export function nameKeys(name: string): NameKeys {
  const folded = nameSkeleton(name);
  const shown = skeleton(name);
  return { folded: hash(folded), shown: shown === folded ? hash(folded) : hash(shown) };
}

/**
 * Whether two names look alike: a key of one is a key of the other, of either kind — one name as
 * written or in lower case looks like the other as written or in lower case ("biII" and "BILL":
 * the first shows as "bill"). A store finds them with one indexed lookup per key column.
 */
export function looksAlike(a: string, b: string): boolean {
  const ka = nameKeys(a);
  const kb = nameKeys(b);
  return [ka.folded, ka.shown].some((k) => k === kb.folded || k === kb.shown);
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
