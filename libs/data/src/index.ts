export * from './database';
export * from './pagination';
export * from './cursor';
export * from './cursor-key.migration';
export * from './audit';
