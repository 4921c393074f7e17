/**
 * Policy rules (`ip rule`): an ordered list, lowest priority first. A rule whose selectors all
 * match either ends the lookup (blackhole, unreachable, prohibit) or looks its table up; when the
 * table has no route (or a `throw` route) the search continues with the next rule. The kernel's
 * three implicit rules are always present: 0 lookup local, 32766 lookup main, 32767 lookup default.
 *
 * Rules live in parallel typed arrays rebuilt on each change (rules change rarely; lookups scan
 * them per packet). An absent selector is stored as a zero mask, so the scan has no branches for
 * "is this selector set".
 */
import { mask4 } from './lpm4.js';
import type { RoutingTable } from './table.js';

export enum RuleAction {
  Lookup = 1,
  Blackhole = 2,
  Unreachable = 3,
  Prohibit = 4,
}

export interface RuleSpec {
  readonly priority: number;
  /** 4 or 6 to bind the rule to one family, 0 for both. */
  readonly family: 0 | 4 | 6;
  /** fwmark selector; mask 0 = no selector. */
  readonly mark: number;
  readonly markMask: number;
  /** Source/destination prefixes (IPv4 number or IPv6 bytes); length 0 = any. */
  readonly from: number | Uint8Array;
  readonly fromLen: number;
  readonly to: number | Uint8Array;
  readonly toLen: number;
  /** Input port index, -1 = any. */
  readonly iif: number;
  readonly action: RuleAction;
  /** Table id for Lookup. */
  readonly table: number;
}

export const TABLE_DEFAULT_ID = 253;
export const TABLE_MAIN_ID = 254;
export const TABLE_LOCAL_ID = 255;

function implicit(priority: number, table: number): RuleSpec {
  return {
    priority,
    family: 0,
    mark: 0,
    markMask: 0,
    from: 0,
    fromLen: 0,
    to: 0,
    toLen: 0,
    iif: -1,
    action: RuleAction.Lookup,
    table,
  };
}

export const IMPLICIT_RULES: readonly RuleSpec[] = [
  implicit(0, TABLE_LOCAL_ID),
  implicit(32766, TABLE_MAIN_ID),
  implicit(32767, TABLE_DEFAULT_ID),
];

function words(
  v: number | Uint8Array,
  len: number,
  out: Uint32Array,
  at: number,
  maskOut: Uint32Array,
): void {
  if (typeof v === 'number') return;
  for (let w = 0; w < 4; w++) {
    const bits = Math.max(0, Math.min(32, len - 32 * w));
    const m = mask4(bits);
    const x = ((v[4 * w]! << 24) | (v[4 * w + 1]! << 16) | (v[4 * w + 2]! << 8) | v[4 * w + 3]!) >>> 0;
    out[at + w] = (x & m) >>> 0;
    maskOut[at + w] = m;
  }
}

export class PolicyRules {
  /** Rules in evaluation order. */
  private specs: RuleSpec[] = [...IMPLICIT_RULES];
  count = 0;
  priority = new Uint32Array(0);
  /** Bit 0: applies to IPv4; bit 1: applies to IPv6. */
  familyBits = new Uint8Array(0);
  mark = new Uint32Array(0);
  markMask = new Uint32Array(0);
  iif = new Int32Array(0);
  src4 = new Uint32Array(0);
  src4Mask = new Uint32Array(0);
  dst4 = new Uint32Array(0);
  dst4Mask = new Uint32Array(0);
  /** 4 words per rule, with matching masks. */
  src6 = new Uint32Array(0);
  src6Mask = new Uint32Array(0);
  dst6 = new Uint32Array(0);
  dst6Mask = new Uint32Array(0);
  action = new Uint8Array(0);
  tableId = new Uint32Array(0);
  /** The table each Lookup rule reads (null when no table has that id yet: the rule never matches). */
  tables: (RoutingTable | null)[] = [];
  /** Bumped whenever the rules or their table links change (see RouteStore.generation). */
  generation = 0;

  constructor(private readonly resolveTable: (id: number) => RoutingTable | null) {
    this.rebuild();
  }

  /** Rules in evaluation order (control plane). */
  list(): readonly RuleSpec[] {
    return this.specs;
  }

  /** Adds a rule; rules with equal priority keep insertion order (as the kernel does). */
  add(rule: RuleSpec): void {
    let i = this.specs.length;
    while (i > 0 && this.specs[i - 1]!.priority > rule.priority) i--;
    this.specs.splice(i, 0, rule);
    this.rebuild();
  }

  /** Removes the first rule with this priority for which `pick` (default: any) holds; returns it. */
  remove(priority: number, pick: (r: RuleSpec) => boolean = () => true): RuleSpec | null {
    const i = this.specs.findIndex((r) => r.priority === priority && pick(r));
    if (i < 0) return null;
    const [r] = this.specs.splice(i, 1);
    this.rebuild();
    return r!;
  }

  /** Re-reads table references (call after tables are created or dropped). */
  relink(): void {
    this.generation++;
    for (let i = 0; i < this.count; i++) {
      this.tables[i] = this.action[i] === RuleAction.Lookup ? this.resolveTable(this.tableId[i]!) : null;
    }
  }

  private rebuild(): void {
    const n = this.specs.length;
    this.count = n;
    this.priority = new Uint32Array(n);
    this.familyBits = new Uint8Array(n);
    this.mark = new Uint32Array(n);
    this.markMask = new Uint32Array(n);
    this.iif = new Int32Array(n);
    this.src4 = new Uint32Array(n);
    this.src4Mask = new Uint32Array(n);
    this.dst4 = new Uint32Array(n);
    this.dst4Mask = new Uint32Array(n);
    this.src6 = new Uint32Array(n * 4);
    this.src6Mask = new Uint32Array(n * 4);
    this.dst6 = new Uint32Array(n * 4);
    this.dst6Mask = new Uint32Array(n * 4);
    this.action = new Uint8Array(n);
    this.tableId = new Uint32Array(n);
    this.tables = new Array<RoutingTable | null>(n).fill(null);
    this.specs.forEach((r, i) => {
      this.priority[i] = r.priority;
      // A prefix selector binds the rule to its family even when `family` says both.
      let fam = r.family;
      if (fam === 0 && (r.fromLen > 0 || r.toLen > 0))
        fam = typeof (r.fromLen > 0 ? r.from : r.to) === 'number' ? 4 : 6;
      this.familyBits[i] = fam === 4 ? 1 : fam === 6 ? 2 : 3;
      this.mark[i] = (r.mark & r.markMask) >>> 0;
      this.markMask[i] = r.markMask;
      this.iif[i] = r.iif;
      if (typeof r.from === 'number') {
        this.src4Mask[i] = mask4(r.fromLen);
        this.src4[i] = (r.from & this.src4Mask[i]!) >>> 0;
      } else words(r.from, r.fromLen, this.src6, i << 2, this.src6Mask);
      if (typeof r.to === 'number') {
        this.dst4Mask[i] = mask4(r.toLen);
        this.dst4[i] = (r.to & this.dst4Mask[i]!) >>> 0;
      } else words(r.to, r.toLen, this.dst6, i << 2, this.dst6Mask);
      this.action[i] = r.action;
      this.tableId[i] = r.action === RuleAction.Lookup ? r.table : 0;
    });
    this.relink();
  }
}
