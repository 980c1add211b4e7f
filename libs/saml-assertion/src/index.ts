export * from './read-assertion';
