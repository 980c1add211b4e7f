export * from './errors';
export * from './discovery';
export * from './claims';
export * from './relying-party';
export * from './logout-token';
