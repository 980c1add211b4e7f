import { KeyEntity } from './keys/key.entity';
import { LoginStateEntity } from './login/login-state.entity';
import { LoginTraceEntity } from './login-trace/login-trace.entity';
import { InitialAuth1764300000002 } from './migrations/1764300000002-initial-auth';
import { SamlAssertionEntity, SamlRequestEntity } from './saml/saml-request.entity';

export const AUTH_ENTITIES = [KeyEntity, LoginTraceEntity, LoginStateEntity, SamlRequestEntity, SamlAssertionEntity];
export const AUTH_MIGRATIONS = [InitialAuth1764300000002];
