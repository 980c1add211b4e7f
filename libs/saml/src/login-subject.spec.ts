import { loginSubject, NAMEID_TRANSIENT } from './login-subject';

const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  return undefined;
};

describe('loginSubject', () => {
  it('keys on the NameID when it is not transient and in the format asked for (any, when none or unspecified was asked for)', () => {
    expect(loginSubject({ nameId: 'p-1', nameIdFormat: PERSISTENT, attributes: {} }, { requestedFormat: PERSISTENT })).toEqual({
      subject: 'p-1',
      subjectFormat: PERSISTENT,
    });
    expect(loginSubject({ nameId: 'a@x.io', nameIdFormat: EMAIL, attributes: {} }, {})).toEqual({ subject: 'a@x.io', subjectFormat: EMAIL });
    expect(loginSubject({ nameId: 'a@x.io', nameIdFormat: EMAIL, attributes: {} }, { requestedFormat: UNSPECIFIED }).subject).toBe('a@x.io');
    expect(loginSubject({ nameId: 'bob', nameIdFormat: undefined, attributes: {} }, {}).subjectFormat).toBe(UNSPECIFIED);
  });

  it('refuses a NameID in another format than the one asked for, naming both', () => {
    const refused = code(() => loginSubject({ nameId: 'a@x.io', nameIdFormat: EMAIL, attributes: {} }, { requestedFormat: PERSISTENT }));
    expect(refused).toMatchObject({ code: 'name_id_format' });
    expect(refused!.message).toContain(EMAIL);
    expect(refused!.message).toContain(PERSISTENT);
  });

  it('never keys on a transient NameID: refused with what to change, unless an attribute keys the user', () => {
    const refused = code(() => loginSubject({ nameId: '_t1', nameIdFormat: NAMEID_TRANSIENT, attributes: { uid: ['tess'] } }, {}));
    expect(refused).toMatchObject({ code: 'name_id_transient', message: expect.stringMatching(/transient NameID[\s\S]*persistent[\s\S]*subjectAttribute/) });
    expect(
      loginSubject(
        { nameId: '_t1', nameIdFormat: NAMEID_TRANSIENT, attributes: { uid: [' tess '] } },
        { subjectAttribute: 'uid', requestedFormat: NAMEID_TRANSIENT },
      ),
    ).toEqual({ subject: 'tess', subjectFormat: 'attribute:uid' });
  });

  it('with a subjectAttribute, keys every login on it and refuses none or several values', () => {
    expect(loginSubject({ nameId: 'p-1', nameIdFormat: PERSISTENT, attributes: { uid: ['tess', 'tess'] } }, { subjectAttribute: 'uid' }).subject).toBe('tess');
    expect(code(() => loginSubject({ nameId: 'p-1', nameIdFormat: PERSISTENT, attributes: {} }, { subjectAttribute: 'uid' }))).toMatchObject({
      code: 'subject_attribute',
      message: expect.stringContaining('no value'),
    });
    expect(code(() => loginSubject({ nameId: 'p-1', attributes: { uid: ['a', 'b'] } }, { subjectAttribute: 'uid' }))).toMatchObject({
      code: 'subject_attribute',
      message: expect.stringContaining('2 different values'),
    });
    expect(code(() => loginSubject({ nameId: 'p-1', attributes: { uid: [' '] } }, { subjectAttribute: 'uid' }))).toMatchObject({ code: 'subject_attribute' });
    expect(code(() => loginSubject({ nameId: 'p-1', attributes: {} }, { subjectAttribute: 'constructor' }))).toMatchObject({ code: 'subject_attribute' });
  });
});
