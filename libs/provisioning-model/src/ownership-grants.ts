import type { AttributeMapping } from './attribute-mapping';

/**
 * What an admin lets an IdP change beyond what it owns (its provisioning settings): `local`
 * groups its logins may put users in, and whether they may link a `local` account no IdP owns.
 * Groups and accounts of other sources, and protected accounts, are never granted.
 */
export interface OwnershipGrants {
  grantLocalGroups: string[];
  claimLocalUsers: boolean;
}

export const NO_GRANTS: OwnershipGrants = { grantLocalGroups: [], claimLocalUsers: false };

/**
 * The grants a login's directory command carries: the admin's list, and the mapping's
 * defaultForAll groups, which the admin named for every user of this IdP (an explicit grant of
 * their own; they can still never join another source's group).
 */
export function loginGrants(mapping: Pick<AttributeMapping, 'groups'>, grants: OwnershipGrants): OwnershipGrants {
  const names = new Map([...grants.grantLocalGroups, ...(mapping.groups.defaultForAll ?? [])].map((n) => [n.toLowerCase(), n]));
  return { grantLocalGroups: [...names.values()], claimLocalUsers: grants.claimLocalUsers };
}
