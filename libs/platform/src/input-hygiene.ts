import { RESERVED_NAMES, RESERVED_NAMES_MESSAGE } from '@bridgekeeper/contracts';

/**
 * What no text in a request may hold, whichever field it is: U+0000 (PostgreSQL cannot store it,
 * C libraries cut the string at it) and an unpaired UTF-16 surrogate (it has no UTF-8 form: stored,
 * it becomes U+FFFD, so what is kept is not what was sent). Member names, path and query parameter
 * names may not be one of the reserved names either. Pure functions; the interceptor applies them
 * to every request (`input-gate.ts`).
 */
export interface InputProblem {
  /** Where: `displayName`, `users.3.properties.__proto__`, a query or path parameter's name. */
  field: string;
  message: string;
}

export const NUL_MESSAGE = 'contains a NUL character';
export const SURROGATE_MESSAGE = 'contains an unpaired surrogate';
export const PERCENT_ENCODING_MESSAGE = 'is not valid percent-encoded UTF-8';

/** With the u flag a well-formed pair is one code point: only unpaired surrogates are \p{Cs}. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What is wrong with one piece of text, or undefined. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(text)) return SURROGATE_MESSAGE;
  return undefined;
}

/** What is wrong with a name (a member, a parameter, a key): its text, or that it is reserved. */
export function nameProblem(name: string): string | undefined {
  return textProblem(name) ?? (RESERVED_NAMES.includes(name) ? RESERVED_NAMES_MESSAGE : undefined);
}

/** A path segment as it can be shown in an error: NUL and unpaired surrogates written as escapes, never sent back raw. */
export function printable(segment: string | number): string {
  return String(segment).replace(/\u0000|\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** A place in the body: its member name or index, and the place that holds it (paths are made only for problems). */
interface Place {
  value: unknown;
  key?: string | number;
  parent?: Place;
  /** Set for a member whose name is refused: its value is not looked into. */
  badName?: string;
}

function fieldOf(place: Place): string {
  const path: (string | number)[] = [];
  for (let p: Place | undefined = place; p?.parent; p = p.parent) path.push(p.key!);
  return path.length ? path.reverse().map(printable).join('.') : '(body)';
}

/** At most this many problems are named: a 5,000-item bulk body with the same mistake in each needs no 5,000-line answer. */
export const MAX_PROBLEMS = 20;

/**
 * Every problem in a parsed body (JSON, or a form's fields), in document order: in string values
 * and member names at any depth. Walks without recursion and without copying paths, so no nesting
 * depth overflows the stack or costs more than linear time.
 */
export function findInputProblems(body: unknown): InputProblem[] {
  const problems: InputProblem[] = [];
  const stack: Place[] = [{ value: body }];
  while (stack.length && problems.length < MAX_PROBLEMS) {
    const place = stack.pop()!;
    const { value } = place;
    if (place.badName) problems.push({ field: fieldOf(place), message: place.badName });
    else if (typeof value === 'string') {
      const message = textProblem(value);
      if (message) problems.push({ field: fieldOf(place), message });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: place });
    } else if (value !== null && typeof value === 'object') {
      // Own members only, `__proto__` included (JSON.parse makes it an own member).
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push({ value: (value as Record<string, unknown>)[keys[i]], key: keys[i], parent: place, badName: nameProblem(keys[i]) });
    }
  }
  return problems;
}

/** Path parameters as the router decoded them (`{ id, key }`): each value is checked as a name. */
export function paramProblems(params: Record<string, string | string[] | undefined>): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      const message = nameProblem(v);
      if (message) problems.push({ field: printable(name), message });
    }
  }
  return problems;
}

/**
 * The query string as it came (`a=1&b=%00`), decoded here the way the URL standard does
 * (`+` is a space), strictly: percent-encoding that is not UTF-8 (`%ED%A0%80`, `%FF`) is a problem,
 * where Node's parser would quietly turn it into U+FFFD.
 */
export function queryProblems(rawQuery: string): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const [rawName, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const name = decode(rawName);
    const value = decode(rawValue);
    const field = name === undefined ? '(query)' : printable(name);
    if (name === undefined || value === undefined) problems.push({ field, message: PERCENT_ENCODING_MESSAGE });
    else {
      const message = nameProblem(name) ?? textProblem(value);
      if (message) problems.push({ field, message });
    }
  }
  return problems.slice(0, MAX_PROBLEMS);
}

function decode(component: string): string | undefined {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
