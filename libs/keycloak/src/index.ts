export * from './keycloak-connector';
