export * from './keycloak-connector';
export * from './change-feed';
export * from './user-pages';
