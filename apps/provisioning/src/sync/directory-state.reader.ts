import { z } from 'zod';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { DirectoryGroupState, DirectoryUserState } from '@bridgekeeper/provisioning-model';
import type { DirectoryClient } from '../directory-client/directory.client';

type StateClient = Pick<DirectoryClient, 'syncState' | 'syncGroups'>;
type StateRow = z.output<typeof DirectoryRpc.syncState.reply>['users'][number];

/** The directory's groups as a plan needs them (syncGroups' pages joined). */
export interface DirectoryGroups {
  /** Every group's name, lower-cased. */
  names: Set<string>;
  /** The connector's own groups, with the IdP group each one is. */
  own: DirectoryGroupState[];
  /** Lower-cased names of the groups the connector may not join. */
  notGrantable: Set<string>;
}

/** Users a state page may hold (the contract's most): the directory cuts pages by size before that. */
const PAGE_USERS = 2000;
/** IdP ids a changes run names in one answer's requests (the contract's most). */
const NAMED_USERS = 2000;

/** Every page of the directory's groups, joined. */
export async function readDirectoryGroups(directory: StateClient, source: string, grantLocalGroups: string[]): Promise<DirectoryGroups> {
  const groups: DirectoryGroups = { names: new Set(), own: [], notGrantable: new Set() };
  let cursor: string | undefined;
  do {
    const page = await directory.syncGroups({ source, cursor, grantLocalGroups });
    for (const name of page.groupNames) groups.names.add(name);
    for (const g of page.ownGroups) groups.own.push(g);
    for (const name of page.groupsNotGrantable) groups.notGrantable.add(name);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return groups;
}

/**
 * The connector's users in the directory, page by page, each user whole (its parts joined) and
 * handed to `take` as its page arrives; with `externalIds`, just those users (a changes run), and
 * the connector's active-user count the directory gives with them.
 */
export async function readDirectoryUsers(
  directory: StateClient,
  query: { source: string; externalIds?: string[] },
  take: (users: DirectoryUserState[]) => void,
): Promise<{ activeUsers?: number }> {
  const { source, externalIds } = query;
  let activeUsers: number | undefined;
  // Named users in chunks the contract takes, each chunk's answer in pages (the first one even for none).
  for (let i = 0; i === 0 || (externalIds && i < externalIds.length); i += NAMED_USERS) {
    const named = externalIds?.slice(i, i + NAMED_USERS);
    const parts = new UserParts();
    let cursor: string | undefined;
    do {
      const page = await directory.syncState({ source, cursor, limit: PAGE_USERS, ...(named ? { externalIds: named } : {}) });
      take(parts.join(page.users));
      if (page.activeUsers !== undefined) activeUsers = page.activeUsers;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    parts.end();
    if (!externalIds) break;
  }
  return { activeUsers };
}

/**
 * Joins the parts of users the directory cut across pages (a row too large for one page comes
 * as parts, each but the last `continued`, the next page starting with the rest): the users that
 * are whole, in order. A waiting part whose next one names another user was of a user deleted
 * between the pages: left out, as a user deleted before the read would be.
 */
export class UserParts {
  private waiting: DirectoryUserState | undefined;

  join(rows: readonly StateRow[]): DirectoryUserState[] {
    const whole: DirectoryUserState[] = [];
    for (const { continued, ...row } of rows) {
      let user: DirectoryUserState;
      if (this.waiting?.id === row.id) {
        user = this.waiting;
        user.groups.push(...row.groups);
        user.otherGroups!.push(...row.otherGroups);
        Object.assign(user.properties, row.properties);
      } else {
        // Prototype-less, so a property named like `__proto__` stays data when parts are joined.
        user = {
          ...row,
          groups: [...row.groups],
          otherGroups: [...row.otherGroups],
          properties: Object.assign(Object.create(null) as DirectoryUserState['properties'], row.properties),
        };
      }
      this.waiting = continued ? user : undefined;
      if (!continued) whole.push(user);
    }
    return whole;
  }

  /** The answer is over: a part still waiting means the directory broke off inside a user. */
  end(): void {
    if (this.waiting) throw new Error(`the directory's state pages ended inside user ${this.waiting.id} (a part with no rest)`);
  }
}
