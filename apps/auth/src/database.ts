import { AuditEntryEntity } from '@bridgekeeper/data';
import { IdpEntity } from './idps/idp.entity';
import { KeyEntity } from './keys/key.entity';
import { LoginStateEntity } from './login/login-state.entity';
import { LoginTraceEntity, LoginTraceStepEntity } from './login-trace/login-trace.entity';
import { InitialAuth1764300000002 } from './migrations/1764300000002-initial-auth';
import { Idps1764400000002 } from './migrations/1764400000002-idps';
import { LoginTraceDetails1764500000000 } from './migrations/1764500000000-login-trace-details';
import { Sessions1764500000001 } from './migrations/1764500000001-sessions';
import { LoginTraceSteps1764600000000 } from './migrations/1764600000000-login-trace-steps';
import { LoginStateBinding1764600000001 } from './migrations/1764600000001-login-state-binding';
import { Oidc1764600000002 } from './migrations/1764600000002-oidc';
import { LoginBrowserBinding1764900000000 } from './migrations/1764900000000-login-browser-binding';
import { UserAccess1764900000001 } from './migrations/1764900000001-user-access';
import { SessionClaims1764900000002 } from './migrations/1764900000002-session-claims';
import { CursorKey1765200000000 } from './migrations/1765200000000-cursor-key';
import { LoginTraceSubjectFormat1765600000000 } from './migrations/1765600000000-login-trace-subject-format';
import { SessionEntity, UserAccessEntity } from './sessions/session.entity';
import { SamlRequestEntity } from './saml/saml-request.entity';
import { SamlAssertionEntity } from './login/replay.entity';

export const AUTH_ENTITIES = [
  KeyEntity,
  LoginTraceEntity,
  LoginTraceStepEntity,
  LoginStateEntity,
  SamlRequestEntity,
  SamlAssertionEntity,
  IdpEntity,
  AuditEntryEntity,
  SessionEntity,
  UserAccessEntity,
];
export const AUTH_MIGRATIONS = [
  InitialAuth1764300000002,
  Idps1764400000002,
  LoginTraceDetails1764500000000,
  Sessions1764500000001,
  LoginTraceSteps1764600000000,
  LoginStateBinding1764600000001,
  Oidc1764600000002,
  LoginBrowserBinding1764900000000,
  UserAccess1764900000001,
  SessionClaims1764900000002,
  CursorKey1765200000000,
  LoginTraceSubjectFormat1765600000000,
];
