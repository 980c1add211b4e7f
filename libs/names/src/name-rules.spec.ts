import { checkName, looksAlike, nameKey, nameKeys, nameSkeleton, showName } from './name-rules';

const refused = (input: string, kind: 'username' | 'group' | 'email' = 'username') => {
  const check = checkName(input, kind);
  return check.ok ? undefined : check.reason;
};

describe('checkName', () => {
  it('accepts plain names as they are', () => {
    expect(checkName('alice', 'username')).toEqual({ ok: true, name: 'alice' });
    expect(checkName('jira-admins', 'group')).toEqual({ ok: true, name: 'jira-admins' });
    expect(checkName('Jira Admins', 'group')).toEqual({ ok: true, name: 'Jira Admins' });
    expect(checkName('alice@example.com', 'email')).toEqual({ ok: true, name: 'alice@example.com' });
  });

  it('accepts names in any one script, with their accents', () => {
    for (const name of ['müller', 'иванов', 'σωκράτης', '田中', 'たなか', 'ผู้ใช้', 'محمد', 'josé.garcía'])
      expect(checkName(name, 'username')).toEqual({ ok: true, name });
    expect(checkName('Équipe Paris', 'group')).toEqual({ ok: true, name: 'Équipe Paris' });
    expect(checkName('ivan@пример.рф', 'email')).toEqual({ ok: true, name: 'ivan@пример.рф' });
  });

  it('normalises to NFC: the decomposed spelling of a name is the composed one', () => {
    const decomposed = 'cafe\u0301';
    expect(checkName(decomposed, 'username')).toEqual({ ok: true, name: 'caf\u00e9' });
    expect(checkName('E\u0301quipe', 'group')).toEqual({ ok: true, name: '\u00c9quipe' });
  });

  it('refuses bidirectional controls, naming the code point', () => {
    expect(refused('alice\u202Etxt.exe')).toBe('contains U+202E, a bidirectional control (it changes the order in which a name is shown)');
    for (const ch of ['\u200E', '\u200F', '\u061C', '\u202A', '\u202D', '\u2066', '\u2067', '\u2068', '\u2069'])
      expect(refused(`a${ch}b`)).toMatch(/bidirectional control/);
  });

  it('refuses zero-width and other invisible characters', () => {
    expect(refused('al\u200Bice')).toBe('contains U+200B, an invisible zero-width character');
    for (const ch of ['\u200C', '\u200D', '\u2060', '\uFEFF']) expect(refused(`al${ch}ice`)).toMatch(/zero-width/);
    expect(refused('alice\uFE0F')).toBe('contains U+FE0F, a variation selector');
    expect(refused('alice\u{E0041}')).toBe('contains U+E0041, an invisible tag character');
    expect(refused('al\u00ADice')).toMatch(/U\+00AD, an invisible or formatting character/);
    expect(refused('al\u3164ice')).toMatch(/U\+3164, an invisible or formatting character/); // Hangul filler
    expect(refused('al\u034Fice')).toMatch(/U\+034F/); // combining grapheme joiner
    expect(refused('a\u0007b')).toMatch(/control character/);
    expect(refused('a\uE000b')).toMatch(/private-use/);
    expect(refused('a\u0378b')).toMatch(/unassigned/);
    expect(refused('a\uD800b')).toMatch(/lone surrogate/);
  });

  it('refuses spaces in usernames and addresses, and all but single plain spaces in group names', () => {
    expect(refused('al ice')).toBe('contains U+0020, a space');
    expect(refused('al\u00A0ice', 'email')).toBe('contains U+00A0, a space');
    expect(refused('Jira\u00A0Admins', 'group')).toBe('contains U+00A0, a space other than the plain space (U+0020)');
    expect(refused('Jira\u3000Admins', 'group')).toMatch(/U\+3000/);
    expect(refused('Jira  Admins', 'group')).toBe('has two spaces in a row');
    expect(refused(' staff', 'group')).toBe('starts or ends with a space');
    expect(refused('staff ', 'group')).toBe('starts or ends with a space');
    expect(refused('a\u2028b', 'group')).toMatch(/line or paragraph separator/);
  });

  it('refuses compatibility forms: fullwidth, styled and circled letters, ligatures', () => {
    expect(refused('ａｌｉｃｅ')).toBe(
      'contains U+FF41, a compatibility form (fullwidth, styled or circled letters, ligatures, …) of U+0061: write the plain character',
    );
    expect(refused('\u{1D41A}lice')).toMatch(/U\+1D41A, a compatibility form/); // mathematical bold a
    expect(refused('ⓐlice')).toMatch(/U\+24D0/);
    expect(refused('\uFB01nance', 'group')).toMatch(/U\+FB01, a compatibility form .* of U\+0066 U\+0069/);
    expect(refused('ｶﾀｶﾅ')).toMatch(/U\+FF76/); // halfwidth katakana
  });

  it('refuses Latin, Greek and Cyrillic letters mixed in one name (per part of an address)', () => {
    expect(refused('\u0430lice')).toBe('mixes Latin and Cyrillic letters, which look alike: write it in one of them');
    expect(refused('p\u03B1ypal')).toBe('mixes Latin and Greek letters, which look alike: write it in one of them');
    expect(refused('b\u043Eb@example.com', 'email')).toMatch(/Latin and Cyrillic/);
    expect(refused('Staff \u0421', 'group')).toMatch(/Latin and Cyrillic/);
  });

  it('refuses piles of combining marks', () => {
    expect(refused('x\u0301\u0302\u0303\u0304\u0306')).toBe('has more than four combining marks in a row');
    expect(refused('x\u0301\u0301')).toBe('has the same combining mark twice in a row');
  });

  it('refuses characters that show as a blank (issue 25, F3), naming the code point', () => {
    expect(refused('Jira\u2800Admins', 'group')).toBe('contains U+2800, a blank character (it shows as a space or as nothing)');
    expect(refused('alice\u2800')).toMatch(/U\+2800, a blank character/);
    expect(refused('al\u{1D159}ice')).toMatch(/U\+1D159, a blank character/); // musical symbol null notehead
    expect(refused('al\u{16FE4}ice')).toMatch(/U\+16FE4, a blank character/); // Khitan small script filler
    for (const ch of ['\u3164', '\u115F', '\u1160', '\uFFA0', '\u180E', '\u200B', '\u2028', '\u2029', '\u17B4', '\u2062'])
      expect(refused(`al${ch}ice`)).toBeDefined();
  });

  it('refuses a dot above on a letter that has a dot of its own (issue 25, F4): it does not show', () => {
    expect(refused('ali\u0307ce')).toBe('contains U+0307 (combining dot above) on U+0069, a letter with a dot of its own: it looks like the plain letter');
    expect(refused('Jira Admi\u0307ns', 'group')).toMatch(/U\+0307 .* on U\+0069/);
    expect(refused('j\u0307oe')).toMatch(/U\+0307 .* on U\+006A/);
    expect(refused('al\u0131\u0307ce')).toMatch(/U\+0307 .* on U\+0131/); // dotless i with a dot is an i
    expect(refused('\u0456\u0307\u0432\u0430\u043D')).toMatch(/U\+0307 .* on U\+0456/); // Cyrillic і
    expect(refused('ali\u0323\u0307ce')).toMatch(/U\+0307/); // a mark below in between hides nothing
    // A dot above where it shows, and letters that carry it precomposed, are names like any other.
    expect(checkName('\u010Biara', 'username')).toEqual({ ok: true, name: '\u010Biara' }); // ċ
    expect(checkName('\u0130lker', 'username')).toEqual({ ok: true, name: '\u0130lker' }); // İ
    expect(checkName('\u017Caneta', 'username')).toEqual({ ok: true, name: '\u017Caneta' }); // ż
  });

  it('refuses the same combining mark twice on a letter that already carries it (checked decomposed)', () => {
    expect(refused('\u010B\u0307iara')).toBe('has the same combining mark twice in a row'); // ċ + a second dot above
  });

  it('checks the length on the NFC name (issue 25/26, F1): NFC can make a name three times longer', () => {
    // U+FB2C is one code unit; its NFC is three (U+05E9 U+05BC U+05C1).
    expect('\uFB2C'.normalize('NFC')).toHaveLength(3);
    expect(refused('\uFB2C'.repeat(255), 'group')).toBe('is longer than 255 characters (765 in NFC)');
    expect(refused('\uFB2C'.repeat(255))).toBe('is longer than 255 characters (765 in NFC)');
    expect(refused('\uFB2C'.repeat(85), 'group')).toBeUndefined(); // 255 in NFC
    expect(refused('\uFB2C'.repeat(86), 'group')).toMatch(/longer than 255/);
    expect(refused('a'.repeat(256))).toBe('is longer than 255 characters (256 in NFC)');
    expect(refused('a'.repeat(255))).toBeUndefined();
    expect(refused(`${'a'.repeat(120)}/${'b'.repeat(140)}`, 'group')).toMatch(/longer than 255/);
    expect(refused(`${'a'.repeat(310)}@example.com`, 'email')).toMatch(/longer than 320/);
    expect(refused(`${'a'.repeat(300)}@ex.com`, 'email')).toBeUndefined();
    // The lower-case form is stored too (PostgreSQL counts its characters): İ is two in lower case.
    expect(refused('\u0130'.repeat(200))).toBe('is longer than 255 characters in lower case (400)');
    expect(refused('\u0130'.repeat(127), 'group')).toBeUndefined();
  });

  it('refuses every dot-above mark on a letter with a dot of its own (issue 25, F5), not only U+0307', () => {
    expect(refused('bi\u1DF8ll')).toBe('contains U+1DF8 (combining dot above left) on U+0069, a letter with a dot of its own: it looks like the plain letter');
    expect(refused('bi\u0358ll')).toMatch(/U\+0358 \(combining dot above right\) on U\+0069/);
    expect(refused('bi\u{10F48}ll')).toMatch(/U\+10F48/);
    expect(refused('bi\u{10F82}ll')).toMatch(/U\+10F82/);
    expect(refused('Jira Admi\u1DF8ns', 'group')).toMatch(/U\+1DF8 .* on U\+0069/);
  });

  it('refuses combining marks of another script on Latin, Greek or Cyrillic letters (issue 25, F5)', () => {
    expect(refused('bo\u{10F48}b')).toBe('puts U+10F48, a combining mark of another script, on Latin letters: write it in one script');
    expect(refused('bo\u{10F82}b')).toMatch(/U\+10F82, a combining mark of another script, on Latin/);
    expect(refused('\u0431\u043E\u0301\u{10F48}\u0431')).toMatch(/on Cyrillic letters/);
    expect(refused('bo\u0483b')).toMatch(/mixes Latin and Cyrillic/); // a Cyrillic titlo is a Cyrillic character
    // Marks shared by every script (Inherited) are fine, and a script's own marks on its letters.
    expect(refused('Jos\u00E9')).toBeUndefined();
    expect(refused('zo\u0308e')).toBeUndefined();
    expect(refused('\u0431\u0483')).toBeUndefined(); // Cyrillic titlo on a Cyrillic letter
  });

  it('refuses an empty name', () => {
    expect(refused('')).toBe('is empty');
    expect(refused('', 'group')).toBe('is empty');
  });
});

describe('nameSkeleton and nameKey', () => {
  it('reads U+A7FE LATIN EPIGRAPHIC LETTER I LONGA as an l (issue 25, F5: confusables.txt 17.0)', () => {
    expect(looksAlike('bi\uA7FE\uA7FE', 'bill')).toBe(true);
    expect(looksAlike('bi\uA7FE\uA7FE', 'Billing')).toBe(false);
    expect(looksAlike('bi\uA7FE\uA7FEing', 'Billing')).toBe(true);
  });

  const alike = (a: string, b: string) => nameSkeleton(a) === nameSkeleton(b) && nameKey(a) === nameKey(b);

  it('gives names that look alike the same skeleton', () => {
    expect(alike('alice', 'ALICE')).toBe(true); // case, as usernames have always been compared
    expect(alike('alice', '\u0430lice')).toBe(true); // Cyrillic а
    expect(alike('alice', 'ａｌｉｃｅ')).toBe(true); // fullwidth
    expect(alike('alice', 'al\u200Bice')).toBe(true); // zero-width space
    expect(alike('caf\u00e9', 'cafe\u0301')).toBe(true); // composed and decomposed
    expect(alike('paypal', '\u0440\u0430ypal')).toBe(true); // Cyrillic р, а
    expect(alike('bill', 'bi11')).toBe(true); // TR 39 counts ASCII lookalikes too
    expect(alike('bill', 'BILL')).toBe(true);
    expect(alike('j0e', 'JOE')).toBe(true);
    expect(alike('arnie', 'amie')).toBe(true); // rn and m
    expect(alike('staff', '\u0455taff')).toBe(true); // Cyrillic ѕ
  });

  it('finds a lookalike as written, not only case-folded (issue 25, F2): capital I is an l', () => {
    expect(looksAlike('bill', 'biII')).toBe(true); // "biII" shows as "bill"; folded first it was "biii"
    expect(looksAlike('bill', 'BiII')).toBe(true);
    expect(looksAlike('BILL', 'biII')).toBe(true); // "biII" shows as "bill", which is BILL in lower case
    expect(looksAlike('biII', 'BILL')).toBe(true);
    expect(looksAlike('Jira Admins', 'Jira AdmIns')).toBe(true);
    expect(looksAlike('ALICE', '\u0430lice')).toBe(true); // the case-folded skeleton stays
    expect(looksAlike('alice', 'ALICE')).toBe(true);
  });

  it('maps the Cyrillic palochka to l as Unicode 17 does (the bundled table said i)', () => {
    const cyrillic = '\u0430\u04CF\u0456\u0441\u0435'; // а ӏ і с е, all Cyrillic
    expect(looksAlike('alice', cyrillic)).toBe(true);
    expect(looksAlike('ALICE', cyrillic.toUpperCase())).toBe(true);
    expect(nameSkeleton('\u04CF')).toBe('l');
    expect(nameSkeleton('\u04C0')).toBe('l');
  });

  it('a dot above on a dotted letter is no part of its skeleton', () => {
    expect(looksAlike('alice', 'ali\u0307ce')).toBe(true);
    expect(looksAlike('alice', 'al\u0131\u0307ce')).toBe(true);
    expect(nameSkeleton('\u0130lker')).toBe(nameSkeleton('ilker')); // İ in lower case is i + U+0307
  });

  it('keeps i and l apart where they look different', () => {
    expect(looksAlike('mail', 'mall')).toBe(false);
    expect(looksAlike('neil', 'nell')).toBe(false);
    expect(looksAlike('Ian', 'ian')).toBe(true); // the same name
    expect(looksAlike('Ian', 'lan')).toBe(true); // capital I and l look the same
  });

  it('nameKeys: the folded and the as-shown key, equal for names without case lookalikes', () => {
    expect(nameKeys('bill')).toEqual({ folded: nameKey('bill'), shown: nameKey('bill') });
    const keys = nameKeys('biII');
    expect(keys.folded).toBe(nameKey('biII'));
    expect(keys.shown).toBe(nameKey('bill'));
    expect(Object.values(keys).every((k) => /^[0-9a-f]{64}$/.test(k))).toBe(true);
  });

  it('keeps names that differ apart', () => {
    expect(alike('alice', 'alicia')).toBe(false);
    expect(alike('bob', 'bob2')).toBe(false);
    expect(alike('müller', 'muller')).toBe(false);
    expect(alike('jira-admins', 'jira-users')).toBe(false);
  });

  it('keys are 64 hex characters whatever the name', () => {
    expect(nameKey('a')).toMatch(/^[0-9a-f]{64}$/);
    expect(nameKey('\uFDFD'.repeat(255))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('showName', () => {
  it('quotes a name and writes hidden characters as code points', () => {
    expect(showName('alice')).toBe('"alice"');
    expect(showName('иванов')).toBe('"иванов"');
    expect(showName('al\u202Eice\u200B')).toBe('"al<U+202E>ice<U+200B>"');
    expect(showName('Jira Admins\u00A0x\n')).toBe('"Jira Admins<U+00A0>x<U+000A>"');
  });
});
