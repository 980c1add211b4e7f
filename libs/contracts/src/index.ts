export * from './envelope';
export * from './streams';
export * from './events/common';
export * from './events/user-authenticated.v1';
export * from './events/user-provisioned.v1';
export * from './events/sync.v1';
export * from './rpc/directory.rpc';
export * from './catalogue';
