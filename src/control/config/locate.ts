/**
 * From a key path back to the YAML source: the node a path names, and its line/column through the
 * document's `LineCounter`. Aliases are followed to their anchors.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

export type Anchor = 'value' | 'key';

export interface Found {
  /** The deepest node reached along the path (the value at the path when `complete`). */
  node: Node | null;
  /** Key node of the last map step taken. */
  key: Node | null;
  /** Whether every segment of the path was found. */
  complete: boolean;
  /** The collection that holds the last segment, when the path is complete. */
  parent: Node | null;
  /** How many segments were found. */
  depth: number;
}

function deref(doc: Document, n: unknown): Node | null {
  let cur = n;
  for (let i = 0; i < 100 && isAlias(cur); i++) cur = cur.resolve(doc);
  return (cur as Node | null) ?? null;
}

function keyText(k: unknown): string | null {
  if (isScalar(k)) return String(k.value);
  return null;
}

export function walk(doc: Document, path: readonly PropertyKey[]): Found {
  let node = deref(doc, doc.contents);
  let key: Node | null = null;
  let parent: Node | null = null;
  let depth = 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) return { node, key, complete: false, parent: null, depth };
      parent = node;
      key = pair.key as Node;
      node = deref(doc, pair.value);
      depth++;
      // `key:` with no value (absent, or an empty scalar YAML reads as null): point at the key.
      const empty =
        node === null || (isScalar(node) && node.range !== undefined && node.range?.[0] === node.range?.[1]);
      if (empty) return { node: key, key, complete: depth === path.length, parent, depth };
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      parent = node;
      node = deref(doc, node.items[seg]);
      depth++;
      if (node === null) return { node: parent, key, complete: depth === path.length, parent, depth };
    } else {
      return { node, key, complete: false, parent: null, depth };
    }
  }
  return { node, key, complete: true, parent, depth };
}

/** Whether the map at `path` lacks key `k` entirely (as opposed to having a bad value for it). */
export function keyMissing(doc: Document, path: readonly PropertyKey[], k: PropertyKey): boolean {
  const f = walk(doc, path);
  if (!f.complete || !isMap(f.node)) return false;
  return !f.node.items.some((p) => isPair(p) && keyText(p.key) === String(k));
}

export interface Position {
  line: number;
  column: number;
}

function startOf(n: Node | null): number {
  const r = n?.range;
  return r ? r[0] : 0;
}

/**
 * Line/column of the value (or key) at `path`; falls back to the deepest node that exists.
 * `path` is the path as written in the file: a list index into a value written as a single
 * scalar (`gateway: 10.0.0.1` read as a one-item list) is dropped.
 */
export function locate(
  doc: Document,
  lc: LineCounter,
  path: readonly PropertyKey[],
  anchor: Anchor,
): Position & { path: readonly PropertyKey[] } {
  const f = walk(doc, path);
  const n = anchor === 'key' && f.complete && f.key ? f.key : f.node;
  const p = lc.linePos(startOf(n));
  let shown = path;
  if (!f.complete && isScalar(f.node) && path.slice(f.depth).every((s) => s === 0))
    shown = path.slice(0, f.depth);
  return { line: p.line, column: p.col, path: shown };
}
