import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SamlValidationPool } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpsModule } from '../idps/idps.module';
import { KeysModule } from '../keys/keys.module';
import { SamlRequestEntity } from './saml-request.entity';
import { SamlIdpRegistry } from './saml-idp.registry';
import { SamlRequestStore } from './saml-stores.service';

@Module({
  imports: [TypeOrmModule.forFeature([SamlRequestEntity]), KeysModule, IdpsModule],
  providers: [
    SamlIdpRegistry,
    SamlRequestStore,
    { provide: SamlValidationPool, inject: [AUTH_CONFIG], useFactory: (config: AuthConfig) => new SamlValidationPool(config.saml.validationThreads) },
  ],
  exports: [SamlIdpRegistry, SamlRequestStore, SamlValidationPool],
})
export class SamlModule {}
