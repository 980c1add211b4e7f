export * from './attribute-mapping';
