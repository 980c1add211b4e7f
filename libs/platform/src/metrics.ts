import { Controller, DynamicModule, ForbiddenException, Get, Header, Inject, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Public } from './route-access';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
const METRICS_ENABLED = Symbol('METRICS_ENABLED');

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_ENABLED) private readonly enabled: boolean,
  ) {}

  /** Public, for Prometheus to scrape (METRICS_ENABLED=false turns it off). */
  @Public()
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async metrics(): Promise<string> {
    if (!this.enabled) throw new ForbiddenException('metrics are turned off (METRICS_ENABLED=false)');
    return this.registry.metrics();
  }
}

/** Prometheus metrics at `/metrics`: process defaults plus whatever services register. */
@Module({})
export class MetricsModule {
  static forRoot(service: string, enabled: boolean): DynamicModule {
    const registry = new Registry();
    registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: registry });
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: METRICS_ENABLED, useValue: enabled },
      ],
      exports: [METRICS_REGISTRY],
    };
  }
}
