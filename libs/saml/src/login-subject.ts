import { loginSubject as subjectOf, SubjectPolicy, SubjectRefusal } from '@bridgekeeper/saml-assertion';
import { SamlValidationError } from './errors';

export { NAMEID_TRANSIENT } from '@bridgekeeper/saml-assertion';
export type { SubjectPolicy } from '@bridgekeeper/saml-assertion';

/** The login's key (the shared rule in @bridgekeeper/saml-assertion), its refusals as SamlValidationErrors. */
export function loginSubject(
  login: { nameId: string; nameIdFormat?: string | null; attributes: Record<string, string[]> },
  policy: SubjectPolicy,
): { subject: string; subjectFormat: string } {
  try {
    return subjectOf(login, policy);
  } catch (err) {
    if (err instanceof SubjectRefusal) throw new SamlValidationError(err.code, err.message);
    throw err;
  }
}
