import type { PropertyValue } from '@bridgekeeper/contracts';

/**
 * Cutting User Sync's state answers by size (pure; no database, no NATS). Every answer must fit
 * the NATS server's max_payload (1 MB by default) or it is never sent: a page is filled with rows
 * until a byte budget well under it, measured as the rows' JSON, which is what goes on the wire.
 */

/** A user's row on a syncState page (the contract's shape). */
export interface StateRow {
  id: string;
  externalId: string | null;
  username: string;
  email: string | null;
  displayName: string | null;
  active: boolean;
  groups: string[];
  otherGroups: string[];
  properties: Record<string, PropertyValue>;
  continued?: true;
}

/** NATS's own default max_payload, assumed when the connection does not say (it always does once connected). */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The bytes a page's rows may take: seven eighths of the server's max_payload (896 kB of 1 MB).
 * The rest is headroom for what wraps the rows (the RPC envelope, the cursor, the counts: under
 * 200 bytes) with room to spare. A single list item (a group name, ≤ 255 characters; a property,
 * ≤ 16 kB of values, ≤ 6 bytes of JSON a character) is far smaller than that for any max_payload
 * of 256 kB or more.
 */
export function pageBudget(maxPayload: number | undefined): number {
  return Math.floor(((maxPayload && maxPayload > 0 ? maxPayload : DEFAULT_MAX_PAYLOAD) * 7) / 8);
}

/** UTF-8 bytes of a value's JSON, as the RPC server writes it. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Where a syncState page starts: after a user, or inside one (`skip` of its list items came already). */
export type StateCursor = { after: string } | { within: string; skip: number };

/** The cursor the contract checked (syncStateCursor), read. */
export function readStateCursor(cursor: string | undefined): StateCursor | undefined {
  if (!cursor) return undefined;
  const [id, skip] = cursor.split(':');
  return skip === undefined ? { after: id } : { within: id, skip: Number(skip) };
}

export function writeStateCursor(cursor: StateCursor): string {
  return 'after' in cursor ? cursor.after : `${cursor.within}:${cursor.skip}`;
}

/**
 * A page's rows, filled up to the budget. Rows go in whole while they fit. The first row of a
 * page that does not fit even alone (or the rest of one the last page cut) is sent in parts: its
 * fields, and as many of its list items (groups, other groups, properties by key: one fixed order)
 * as fit, at least one, so every page moves on. The page then ends with that part (`continued`)
 * and the cursor points inside the row.
 */
export class PageFiller {
  readonly rows: StateRow[] = [];
  private used = 0;
  /** Set once the page is full: where the next page starts. */
  next: StateCursor | undefined;

  constructor(readonly budget: number) {}

  get full(): boolean {
    return this.next !== undefined;
  }

  /** The bytes the page's rows take so far (with the commas between them). */
  get bytes(): number {
    return this.used;
  }

  /**
   * Adds a row, or from its `skip`-th list item on (a row the last page cut). False when the page
   * is full and the row waits for the next one (`next` says where it starts).
   */
  add(row: StateRow, skip = 0): boolean {
    if (this.full) return false;
    if (skip === 0) {
      const bytes = jsonBytes(row) + 1;
      if (this.used + bytes <= this.budget) {
        this.rows.push(row);
        this.used += bytes;
        return true;
      }
      if (this.rows.length) {
        this.next = { after: this.rows[this.rows.length - 1].id };
        return false;
      }
    }
    return this.addPart(row, skip);
  }

  /** Ends the page at a row's end (the reader read no further), if it is not full already. */
  endAfter(id: string): void {
    this.next ??= { after: id };
  }

  /** A row that starts a page and does not fit whole: its fields and the list items that fit, from `skip` on (at least one). */
  private addPart(row: StateRow, skip: number): boolean {
    const items = listItems(row);
    const part: StateRow = { ...row, groups: [], otherGroups: [], properties: Object.create(null) as Record<string, PropertyValue>, continued: true };
    let used = this.used + jsonBytes(part) + 1;
    let i = skip;
    for (; i < items.length; i++) {
      const item = items[i];
      const bytes = item.kind === 'property' ? jsonBytes(item.key) + 1 + jsonBytes(item.value) + 1 : jsonBytes(item.name) + 1;
      if (used + bytes > this.budget && i > skip) break;
      used += bytes;
      if (item.kind === 'group') part.groups.push(item.name);
      else if (item.kind === 'other') part.otherGroups.push(item.name);
      else part.properties[item.key] = item.value;
    }
    this.used = used;
    this.rows.push(part);
    if (i < items.length) {
      this.next = { within: row.id, skip: i };
      return false;
    }
    delete part.continued;
    return true;
  }
}

type ListItem = { kind: 'group'; name: string } | { kind: 'other'; name: string } | { kind: 'property'; key: string; value: PropertyValue };

/** A row's list items in the one order parts are cut by: groups, other groups (each sorted, as rows are), properties by key. */
function listItems(row: StateRow): ListItem[] {
  return [
    ...row.groups.map((name) => ({ kind: 'group' as const, name })),
    ...row.otherGroups.map((name) => ({ kind: 'other' as const, name })),
    ...Object.keys(row.properties)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((key) => ({ kind: 'property' as const, key, value: row.properties[key] })),
  ];
}

/** A syncGroups page: the three lists of its groups, filled up to the budget (at least one group). */
export class GroupPageFiller {
  readonly groupNames: string[] = [];
  readonly ownGroups: { name: string; externalId: string | null }[] = [];
  readonly groupsNotGrantable: string[] = [];
  private used = 0;
  private count = 0;

  constructor(readonly budget: number) {}

  /** Adds a group to the lists it belongs in; false (nothing added) when the page has no room for it. */
  add(group: { name: string; nameLower: string; externalId: string | null }, use: 'own' | 'granted' | 'refused'): boolean {
    const own = use === 'own' ? { name: group.name, externalId: group.externalId } : undefined;
    const name = jsonBytes(group.nameLower) + 1;
    const bytes = name + (own ? jsonBytes(own) + 1 : 0) + (use === 'refused' ? name : 0);
    if (this.count && this.used + bytes > this.budget) return false;
    this.used += bytes;
    this.count++;
    this.groupNames.push(group.nameLower);
    if (own) this.ownGroups.push(own);
    if (use === 'refused') this.groupsNotGrantable.push(group.nameLower);
    return true;
  }
}
