import { checkName, nameKey, nameSkeleton, showName } from './name-rules';

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
    for (const name of ['müller', 'иванов', 'σωκράτης', '田中', 'たなか', 'ผู้ใช้', 'محمد', 'josé.garcía']) expect(checkName(name, 'username')).toEqual({ ok: true, name });
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
    for (const ch of ['\u200E', '\u200F', '\u061C', '\u202A', '\u202D', '\u2066', '\u2067', '\u2068', '\u2069']) expect(refused(`a${ch}b`)).toMatch(/bidirectional control/);
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
    expect(refused('ａｌｉｃｅ')).toBe('contains U+FF41, a compatibility form (fullwidth, styled or circled letters, ligatures, …) of U+0061: write the plain character');
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

  it('refuses an empty name', () => {
    expect(refused('')).toBe('is empty');
    expect(refused('', 'group')).toBe('is empty');
  });
});

describe('nameSkeleton and nameKey', () => {
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
