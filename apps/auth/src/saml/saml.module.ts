import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdpsModule } from '../idps/idps.module';
import { KeysModule } from '../keys/keys.module';
import { SamlAssertionEntity, SamlRequestEntity } from './saml-request.entity';
import { SamlIdpRegistry } from './saml-idp.registry';
import { AssertionReplayStore, SamlRequestStore } from './saml-stores.service';

@Module({
  imports: [TypeOrmModule.forFeature([SamlRequestEntity, SamlAssertionEntity]), KeysModule, IdpsModule],
  providers: [SamlIdpRegistry, SamlRequestStore, AssertionReplayStore],
  exports: [SamlIdpRegistry, SamlRequestStore, AssertionReplayStore],
})
export class SamlModule {}
