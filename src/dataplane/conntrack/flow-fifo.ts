/**
 * Insertion-ordered intrusive list of items 0..capacity-1 (doubly linked through next/prev
 * arrays): O(1) append, O(1) removal from anywhere, oldest first. The flow table keeps its
 * unassured flows here, so early drop can look at the oldest few without scanning the table.
 *
 * prev[i] = -2 marks "not a member"; -1 is the null link.
 */
export class FlowFifo {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  head = -1;
  tail = -1;
  count = 0;

  constructor(capacity: number) {
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-2);
  }

  has(item: number): boolean {
    return this.prev[item] !== -2;
  }

  /** Appends item as the youngest member; no-op if it is already a member. */
  push(item: number): void {
    if (this.prev[item] !== -2) return;
    this.prev[item] = this.tail;
    this.next[item] = -1;
    if (this.tail === -1) this.head = item;
    else this.next[this.tail] = item;
    this.tail = item;
    this.count++;
  }

  /** Removes item; no-op if it is not a member. */
  remove(item: number): void {
    const p = this.prev[item]!;
    if (p === -2) return;
    const n = this.next[item]!;
    if (p === -1) this.head = n;
    else this.next[p] = n;
    if (n === -1) this.tail = p;
    else this.prev[n] = p;
    this.prev[item] = -2;
    this.next[item] = -1;
    this.count--;
  }
}
