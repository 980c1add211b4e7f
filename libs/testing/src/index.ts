export * from './nats-server';
export * from './postgres';
export * from './saml-idp';
export * from './readme';
export * from './oidc-idp';
export * from './service-stack';
export * from './keycloak-events';
export * from './saml-dependencies';
