export * from './attribute-mapping';
export * from './sync-plan';
