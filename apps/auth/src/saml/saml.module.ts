import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SamlValidationPool } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpsModule } from '../idps/idps.module';
import { KeysModule } from '../keys/keys.module';
import { SamlAssertionEntity, SamlRequestEntity } from './saml-request.entity';
import { SamlIdpRegistry } from './saml-idp.registry';
import { AssertionReplayStore, SamlRequestStore } from './saml-stores.service';

@Module({
  imports: [TypeOrmModule.forFeature([SamlRequestEntity, SamlAssertionEntity]), KeysModule, IdpsModule],
  providers: [
    SamlIdpRegistry,
    SamlRequestStore,
    AssertionReplayStore,
    { provide: SamlValidationPool, inject: [AUTH_CONFIG], useFactory: (config: AuthConfig) => new SamlValidationPool(config.saml.validationThreads) },
  ],
  exports: [SamlIdpRegistry, SamlRequestStore, AssertionReplayStore, SamlValidationPool],
})
export class SamlModule {}
