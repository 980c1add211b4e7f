export * from './name-rules';
export * from './name-schema';
