export * from './errors';
export * from './idp-metadata';
export * from './response-checks';
export * from './service-provider';
export * from './keys';
export * from './certificates';
export { decodeSamlMessage, redactSamlXml } from './xml';
export * from './validation-pool';
