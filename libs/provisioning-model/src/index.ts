export * from './attribute-mapping';
export * from './sync-plan';
export * from './plan-basis';
export * from './assertion-attributes';
export * from './ownership-grants';
export * from './linear-regex';
export * from './held-plan';
export * from './mapping-presets';
