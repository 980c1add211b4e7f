export * from './audit-entry.entity';
export * from './audit-log.migration';
export * from './audit-writer';
