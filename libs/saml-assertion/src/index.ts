export * from './read-assertion';
export * from './login-subject';
