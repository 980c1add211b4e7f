export * from './messaging.options';
export * from './errors';
export * from './nats-connection.service';
export * from './event-bus.service';
export * from './nats.health';
export * from './messaging.module';
export * from './stream-publisher';
export * from './rpc';
