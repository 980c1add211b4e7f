import type { z } from 'zod';
import { AuthRpc } from './auth.rpc';
import { DirectoryRpc } from './directory.rpc';

/**
 * Every command's types by name, so no service writes its own copy of a contract. For a command X:
 * `XRequest` is what a caller sends (defaults may be left out), `XCommand` what the handler
 * receives (parsed: defaults applied), `XReply` the answer.
 */
type Sent<C extends { request: z.ZodType }> = z.input<C['request']>;
type Received<C extends { request: z.ZodType }> = z.output<C['request']>;
type Answer<C extends { reply: z.ZodType }> = z.output<C['reply']>;

export type ProvisionUserCommand = Received<typeof DirectoryRpc.provisionUser>;
export type ResolveUserRequest = Sent<typeof DirectoryRpc.resolveUser>;
export type ResolveUserCommand = Received<typeof DirectoryRpc.resolveUser>;
export type ResolveUserReply = Answer<typeof DirectoryRpc.resolveUser>;
export type SyncStateRequest = Sent<typeof DirectoryRpc.syncState>;
export type SyncStateCommand = Received<typeof DirectoryRpc.syncState>;
export type SyncStateReply = Answer<typeof DirectoryRpc.syncState>;
export type SyncGroupsRequest = Sent<typeof DirectoryRpc.syncGroups>;
export type SyncGroupsCommand = Received<typeof DirectoryRpc.syncGroups>;
export type SyncGroupsReply = Answer<typeof DirectoryRpc.syncGroups>;
export type SyncApplyRequest = Sent<typeof DirectoryRpc.syncApply>;
export type SyncApplyCommand = Received<typeof DirectoryRpc.syncApply>;
export type SyncApplyReply = Answer<typeof DirectoryRpc.syncApply>;
export type NamesHeldRequest = Sent<typeof DirectoryRpc.namesHeld>;
export type NamesHeldCommand = Received<typeof DirectoryRpc.namesHeld>;
export type NamesHeldReply = Answer<typeof DirectoryRpc.namesHeld>;
export type VerifyTokenCommand = Received<typeof DirectoryRpc.verifyToken>;
export type VerifyTokenReply = Answer<typeof DirectoryRpc.verifyToken>;
export type LoginTraceCommand = Received<typeof AuthRpc.loginTrace>;
export type LoginTraceReply = Answer<typeof AuthRpc.loginTrace>;
export type IdpExistsCommand = Received<typeof AuthRpc.idpExists>;
export type IdpExistsReply = Answer<typeof AuthRpc.idpExists>;
export type IdpSubjectPolicyCommand = Received<typeof AuthRpc.idpSubjectPolicy>;
export type IdpSubjectPolicyReply = Answer<typeof AuthRpc.idpSubjectPolicy>;
