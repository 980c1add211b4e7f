// TypeScript's node10 resolution (this repo's) does not read package "exports"; Node does at run time.
declare module 'openid-client/passport' {
  export * from 'openid-client/build/passport';
}
