export * from './admin-token';
export * from './token-verifier';
export * from './admin.guard';
export * from './admin-api.module';
export * from './remote-token-verifier';
export * from './zod-api';
export * from './audit.controller';
