export * from './errors';
export * from './idp-metadata';
export * from './response-checks';
export * from './service-provider';
export * from './keys';
export * from './certificates';
export { checkXmlLimits, decodeSamlMessage, MAX_XML_DEPTH, MAX_XML_ELEMENTS, redactSamlXml } from './xml';
export * from './validation-pool';
export { CONTENT_ALGORITHMS, decryptAssertion, DECRYPTION_FAILED, KEY_TRANSPORT_ALGORITHMS, readEncryptedAssertion } from './decryption';
