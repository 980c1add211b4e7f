import type { IdpGroup, IdpSnapshot, IdpUser } from '@bridgekeeper/provisioning-model';

/**
 * A snapshot as it crosses from the reading thread to User Sync: the users and groups as they
 * are, and the memberships as numbers — each member is the index of a user (or, for a member the
 * user listing did not return, of an id after them), group after group. Half a million member
 * ids would otherwise be copied as half a million strings; this way the receiving side points
 * each member at its user's own id string, and the numbers travel as one transferred buffer.
 */
export interface PackedSnapshot {
  users: IdpUser[];
  groups: IdpGroup[];
  /** Members whose id is not among the users' (a user created while the realm was being read). */
  extraIds: string[];
  /** For each group, in `groups` order, how many members it has. */
  memberCounts: Uint32Array;
  /** Every group's members, one group after another. */
  members: Uint32Array;
}

export function packSnapshot(snapshot: IdpSnapshot): PackedSnapshot {
  const index = new Map<string, number>();
  snapshot.users.forEach((u, i) => index.set(u.id, i));
  const extraIds: string[] = [];
  const memberCounts = new Uint32Array(snapshot.groups.length);
  let total = 0;
  snapshot.groups.forEach((g, i) => {
    memberCounts[i] = snapshot.members.get(g.id)?.length ?? 0;
    total += memberCounts[i];
  });
  const members = new Uint32Array(total);
  let at = 0;
  for (const g of snapshot.groups) {
    for (const id of snapshot.members.get(g.id) ?? []) {
      let i = index.get(id);
      if (i === undefined) {
        i = snapshot.users.length + extraIds.push(id) - 1;
        index.set(id, i);
      }
      members[at++] = i;
    }
  }
  return { users: snapshot.users, groups: snapshot.groups, extraIds, memberCounts, members };
}

export function unpackSnapshot(packed: PackedSnapshot): IdpSnapshot {
  const ids = packed.users.map((u) => u.id).concat(packed.extraIds);
  const members = new Map<string, string[]>();
  let at = 0;
  packed.groups.forEach((g, i) => {
    const list = new Array<string>(packed.memberCounts[i]);
    for (let k = 0; k < list.length; k++) list[k] = ids[packed.members[at++]];
    members.set(g.id, list);
  });
  return { users: packed.users, groups: packed.groups, members };
}
