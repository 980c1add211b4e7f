/** No enabled IdP (of the protocol asked for) has this id. */
export class UnknownIdpError extends Error {}

/** The IdP's metadata or discovery document could not be loaded. */
export class IdpUnavailableError extends Error {}
