import fc from 'fast-check';
import { checkName, looksAlike, NameKind, nameKey, nameSkeleton } from './name-rules';

/** Characters that hide or reorder what a name shows: one of them anywhere refuses the name. */
const HIDDEN = [
  '\u202E',
  '\u202D',
  '\u202A',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200E',
  '\u200F',
  '\u061C',
  '\u200B',
  '\u200C',
  '\u200D',
  '\u2060',
  '\uFEFF',
  '\u00AD',
  '\u034F',
  '\u180E',
  '\u3164',
  '\u115F',
  '\u2800',
  '\u{1D159}',
  '\u{16FE4}',
  '\uFE00',
  '\uFE0F',
  '\u{E0100}',
  '\u{E0001}',
  '\u{E0041}',
  '\u0000',
  '\u001B',
  '\u007F',
  '\u0085',
  '\u2028',
  '\u2029',
];
/** Letters and the lookalikes a spoofer puts in their place. */
const LOOKALIKES: Record<string, string[]> = {
  a: ['\u0430', '\uFF41'],
  c: ['\u0441', '\uFF43'],
  e: ['\u0435', '\uFF45'],
  i: ['\u0456', '\uFF49'],
  o: ['\u043E', '\u03BF', '\uFF4F'],
  p: ['\u0440', '\uFF50'],
  s: ['\u0455', '\uFF53'],
  x: ['\u0445', '\uFF58'],
  y: ['\u0443', '\uFF59'],
};

const kinds = fc.constantFrom<NameKind>('username', 'group', 'email');
/** Any text, astral characters and lone surrogates included. */
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const plainName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,30}$/);

describe('name rules (properties)', () => {
  it('refuses any name with a hidden character anywhere in it', () => {
    fc.assert(
      fc.property(anyText, anyText, fc.constantFrom(...HIDDEN), kinds, (before, after, hidden, kind) => {
        expect(checkName(before + hidden + after, kind).ok).toBe(false);
      }),
    );
  });

  it('an accepted name is NFC, accepted again as it is, and holds no control, format or invisible character', () => {
    fc.assert(
      fc.property(anyText, kinds, (input, kind) => {
        const check = checkName(input, kind);
        if (!check.ok) return;
        expect(check.name).toBe(check.name.normalize('NFC'));
        expect(checkName(check.name, kind)).toEqual(check);
        expect(check.name).not.toMatch(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]/u);
        expect(check.name).toBe(check.name.normalize('NFKC'));
      }),
    );
  });

  it('the composed and decomposed spellings of a name are one name', () => {
    fc.assert(
      fc.property(anyText, kinds, (input, kind) => {
        expect(checkName(input.normalize('NFD'), kind)).toEqual(checkName(input.normalize('NFC'), kind));
        expect(nameSkeleton(input.normalize('NFD'))).toBe(nameSkeleton(input.normalize('NFC')));
      }),
    );
  });

  it('the skeleton ignores case and invisible characters', () => {
    fc.assert(
      fc.property(anyText, fc.nat(40), fc.constantFrom('\u200B', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\uFE0F', '\u034F'), (input, at, invisible) => {
        const chars = [...input];
        const spiked = [...chars.slice(0, at), invisible, ...chars.slice(at)].join('');
        expect(nameKey(spiked)).toBe(nameKey(input));
        expect(nameKey(input.toLowerCase())).toBe(nameKey(input));
      }),
    );
  });

  it('a name with letters swapped for lookalikes has the skeleton of the name it imitates', () => {
    fc.assert(
      fc.property(plainName, fc.infiniteStream(fc.nat(9)), (name, picks) => {
        const it = picks[Symbol.iterator]();
        const spoof = [...name].map((ch) => {
          const options = LOOKALIKES[ch];
          const pick = it.next().value as number;
          return options && pick < options.length ? options[pick] : ch;
        });
        expect(nameKey(spoof.join(''))).toBe(nameKey(name));
        expect(nameKey(spoof.join('').toUpperCase())).toBe(nameKey(name));
      }),
    );
  });

  it('a name with l written as a capital I looks like the name, in any case (issue 25, F2)', () => {
    fc.assert(
      fc.property(plainName, fc.infiniteStream(fc.boolean()), (name, flips) => {
        const it = flips[Symbol.iterator]();
        const spoof = [...name].map((ch) => (ch === 'l' && it.next().value ? 'I' : ch)).join('');
        expect(looksAlike(spoof, name)).toBe(true);
        expect(looksAlike(spoof, name.toUpperCase())).toBe(true);
        expect(looksAlike(name.toUpperCase(), spoof)).toBe(true);
      }),
    );
  });

  it('a dot above on an i or j never makes a name that passes (issue 25, F4)', () => {
    fc.assert(
      fc.property(anyText, anyText, fc.constantFrom('i', 'j', '\u0131', '\u0456', '\u0458'), kinds, (before, after, dotted, kind) => {
        expect(checkName(`${before}${dotted}\u0307${after}`, kind).ok).toBe(false);
      }),
    );
  });

  it('an accepted name is never longer than the limit, whatever NFC makes of it (issue 25/26, F1)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', '\uFB2C', '\u0130', '\u{1D400}', 'e\u0301', '\u1E9B\u0323'), { minLength: 60, maxLength: 400 }),
        kinds,
        (parts, kind) => {
          const check = checkName(parts.join(''), kind);
          if (check.ok) expect(check.name.length).toBeLessThanOrEqual(kind === 'email' ? 320 : 255);
        },
      ),
    );
  });

  it('no dot-above mark on an i or j makes a name that passes (issue 25, F5)', () => {
    fc.assert(
      fc.property(
        anyText,
        anyText,
        fc.constantFrom('i', 'j', '\u0131', '\u0456'),
        fc.constantFrom('\u0307', '\u0358', '\u1DF8', '\u{10F48}', '\u{10F82}'),
        kinds,
        (before, after, dotted, dot, kind) => {
          expect(checkName(`${before}${dotted}${dot}${after}`, kind).ok).toBe(false);
        },
      ),
    );
  });
});
