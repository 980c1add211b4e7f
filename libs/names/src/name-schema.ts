import { z } from 'zod';
import { checkName, NameKind } from './name-rules';

const RULES: Record<NameKind, string> = {
  username: 'no spaces',
  group: 'single plain spaces between words',
  email: 'no spaces',
};

/**
 * A name field of an API: trimmed, normalised to NFC, at most `max` characters, and refused (a
 * validation error naming the field and the code point) when it breaks the name rules.
 */
export const nameSchema = (kind: NameKind, max = 255) =>
  z
    .string()
    .overwrite((s) => s.trim().normalize('NFC'))
    .min(1)
    .max(max)
    // checkName checks the length again after NFC (and in lower case), as every writer does.
    .superRefine((s, ctx) => {
      const check = checkName(s, kind);
      if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
    })
    .describe(
      `Stored in Unicode NFC, at most ${max} characters in NFC and in lower case. Refused (400): control, format and invisible characters (bidirectional controls, zero-width characters, variation selectors, tags, …), ${RULES[kind]}, compatibility forms (fullwidth, styled or circled letters, ligatures), characters that show as a blank (U+2800, …), a dot above (U+0307, U+1DF8, …) on i, j or another letter with a dot of its own, more than four combining marks in a row, Latin, Greek and Cyrillic letters mixed in one name or carrying a combining mark of another script.`,
    );
