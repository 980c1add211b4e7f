import { DiscoveryModule } from '@nestjs/core';
import { RpcServer } from './rpc';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { EventBus } from './event-bus.service';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { NatsConnectionService } from './nats-connection.service';

@Global()
@Module({})
export class MessagingModule {
  static forRootAsync(options: {
    imports?: DynamicModule['imports'];
    inject?: any[];
    useFactory: (...args: any[]) => MessagingOptions | Promise<MessagingOptions>;
  }): DynamicModule {
    return {
      module: MessagingModule,
      imports: [...(options.imports ?? []), DiscoveryModule],
      providers: [{ provide: MESSAGING_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }, NatsConnectionService, EventBus, RpcServer],
      exports: [NatsConnectionService, EventBus, MESSAGING_OPTIONS],
    };
  }
}
