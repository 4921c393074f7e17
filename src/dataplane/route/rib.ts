/**
 * The routing information base: every table by id, the route store they share, and the policy
 * rules. Starts like a fresh kernel: tables local (255), main (254) and default (253), and the
 * three implicit rules.
 */
import { PolicyRules, TABLE_DEFAULT_ID, TABLE_LOCAL_ID, TABLE_MAIN_ID } from './rules.js';
import { RouteStore } from './store.js';
import { RoutingTable } from './table.js';

export class Rib {
  readonly store = new RouteStore();
  private readonly byId = new Map<number, RoutingTable>();
  readonly rules: PolicyRules;

  constructor() {
    this.rules = new PolicyRules((id) => this.byId.get(id) ?? null);
    this.ensureTable(TABLE_LOCAL_ID, 'local');
    this.ensureTable(TABLE_MAIN_ID, 'main');
    this.ensureTable(TABLE_DEFAULT_ID, 'default');
  }

  /**
   * Changes with every route added or removed in any table and every rule or table link change
   * (both counters only grow, so their sum does too): a cached routing decision taken at an
   * earlier generation may be stale. Routes change only through RoutingTable, which goes through
   * the store; rules only through PolicyRules.
   */
  get generation(): number {
    return this.store.generation + this.rules.generation;
  }

  get local(): RoutingTable {
    return this.byId.get(TABLE_LOCAL_ID)!;
  }

  get main(): RoutingTable {
    return this.byId.get(TABLE_MAIN_ID)!;
  }

  table(id: number): RoutingTable | undefined {
    return this.byId.get(id);
  }

  tables(): IterableIterator<RoutingTable> {
    return this.byId.values();
  }

  /** The table with this id, created (empty) if it does not exist yet. */
  ensureTable(id: number, name = String(id)): RoutingTable {
    let t = this.byId.get(id);
    if (!t) {
      t = new RoutingTable(id, name, this.store);
      this.byId.set(id, t);
      this.rules.relink();
    }
    return t;
  }
}
