export type SamlErrorCode =
  | 'malformed'
  | 'dtd_refused'
  | 'signature'
  | 'algorithm'
  | 'destination'
  | 'issuer'
  | 'recipient'
  | 'audience'
  | 'expired'
  /** IssueInstant older than the maximum assertion age. */
  | 'too_old'
  /** IssueInstant later than now plus the clock skew. */
  | 'issued_in_future'
  /** Deeper or with more elements than any real IdP sends (checked before parsing). */
  | 'too_large'
  /** An encrypted assertion did not open, whatever the cause: one code and one message (no oracle). */
  | 'decryption'
  | 'in_response_to'
  | 'unsolicited'
  | 'replay'
  | 'idp_status'
  /** The NameID is in another format than the SP asked for. */
  | 'name_id_format'
  /** A transient NameID, and no subjectAttribute to key the user on. */
  | 'name_id_transient'
  /** The subjectAttribute is missing or has several values. */
  | 'subject_attribute'
  | 'unsupported';

/** A SAML message was refused; `code` is stable, `message` says why in plain words. */
export class SamlValidationError extends Error {
  constructor(
    readonly code: SamlErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SamlValidationError';
  }
}

/** Maps node-saml's error messages onto our stable codes. */
export function classifyNodeSamlError(err: unknown): SamlValidationError {
  if (err instanceof SamlValidationError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const rules: [RegExp, SamlErrorCode][] = [
    [/signature/i, 'signature'],
    [/InResponseTo/i, 'in_response_to'],
    [/expired|not yet valid|NotBefore|NotOnOrAfter|too old|No valid subject confirmation/i, 'expired'],
    [/audience/i, 'audience'],
    [/issuer/i, 'issuer'],
    [/status|Responder|Requester/i, 'idp_status'],
    [/encrypt/i, 'unsupported'],
  ];
  const code = rules.find(([re]) => re.test(message))?.[1] ?? 'malformed';
  return new SamlValidationError(code, message);
}
