export * from './keycloak-connector';
export * from './change-feed';
