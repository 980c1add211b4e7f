import RE2 from 're2';

/**
 * The regular expressions of mapping rules (`username.replace.pattern`, `groups.rules[].match`)
 * run on RE2, which matches in time linear in the input whatever the pattern: an admin's
 * `^(a+)+$` cannot stall provisioning (a backtracking engine took about a second on a 28-character
 * name, doubling with each character more). RE2 cannot run what needs backtracking —
 * backreferences, lookahead, lookbehind — so such patterns are refused when saved, and a mapping
 * saved before that refuses its logins rather than skip a rule (docs/adr/0002).
 */

/** Compiled patterns, or why one cannot run: a mapping's few patterns are compiled once, not on every login. */
const compiled = new Map<string, RE2 | string>();
const MAX_COMPILED = 1000;

function compile(pattern: string): RE2 | string {
  const hit = compiled.get(pattern);
  if (hit !== undefined) return hit;
  const result = tryCompile(pattern);
  // Mappings hold a few patterns; a bound keeps anything else from growing the map.
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(pattern, result);
  return result;
}

function tryCompile(pattern: string): RE2 | string {
  try {
    // Written and read as JavaScript: a pattern must be one (RE2 would also take its own syntax).
    new RegExp(pattern);
  } catch {
    return 'not a valid regular expression';
  }
  try {
    return new RE2(pattern);
  } catch {
    return `it needs backtracking (${backtrackingFeature(pattern)}), which could stall provisioning: write it without backreferences, lookahead or lookbehind`;
  }
}

/** What RE2 refused, in words (only for the message: RE2's refusal is what decides). */
function backtrackingFeature(pattern: string): string {
  if (/\\[1-9]|\\k</.test(pattern)) return 'a backreference';
  if (/\(\?<[=!]/.test(pattern)) return 'a lookbehind';
  if (/\(\?[=!]/.test(pattern)) return 'a lookahead';
  return 'a feature RE2 does not have';
}

/** Why a pattern cannot be used in a mapping rule, or undefined when it can. */
export function regexProblem(pattern: string): string | undefined {
  const re = compile(pattern);
  return typeof re === 'string' ? re : undefined;
}

/** The compiled pattern (cached); throws when it cannot run (check with regexProblem first). */
export function linearRegex(pattern: string): RE2 {
  const re = compile(pattern);
  if (typeof re === 'string') throw new Error(`regular expression ${JSON.stringify(pattern)}: ${re}`);
  return re;
}
