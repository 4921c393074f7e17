/**
 * tshark as a test oracle: runs `tshark -T json` on a capture and returns every packet as a list
 * of protocol layers, each with its fields flattened in document order.
 *
 * tshark's JSON repeats a key when a field occurs more than once in an object (TCP option kinds,
 * DHCP option types, …), which `JSON.parse` would collapse to the last value. `parseOrderedJson`
 * keeps every entry in order instead, so the n-th `tcp.option_kind` stays the n-th option.
 */
import { execFile, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface TsharkField {
  name: string;
  value: string;
}

export interface TsharkLayer {
  /** Protocol name as tshark writes it: eth, vlan, ip, udp, … */
  name: string;
  /** Every field of the layer (subtrees flattened) in the order tshark printed them. */
  fields: TsharkField[];
  /** Protocols tshark nested inside this one, such as the packet an ICMP error quotes. */
  children: TsharkLayer[];
}

/** Every packet: its top-level layers in order (`frame` first). */
export type TsharkPacket = TsharkLayer[];

/** Preferences every run uses: absolute sequence numbers, and checksums judged, not skipped. */
export const TSHARK_BASE_ARGS: readonly string[] = [
  '-n',
  '-o',
  'tcp.relative_sequence_numbers:FALSE',
  '-o',
  'tcp.analyze_sequence_numbers:FALSE',
  '-o',
  'ip.check_checksum:TRUE',
  '-o',
  'udp.check_checksum:TRUE',
  '-o',
  'tcp.check_checksum:TRUE',
];

function probeTshark(): { version: string } | { missing: string } {
  const r = spawnSync('tshark', ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error)
    return {
      missing: `tshark not runnable (${r.error.message}); scripts/install-system-deps.sh installs it`,
    };
  if (r.status !== 0) return { missing: `tshark --version exited with ${r.status}` };
  return { version: r.stdout.split('\n')[0] ?? 'tshark' };
}

const probe = probeTshark();
/** Why the oracle cannot run here, or undefined when tshark is available. */
export const tsharkMissingReason: string | undefined = 'missing' in probe ? probe.missing : undefined;
export const tsharkVersion: string | undefined = 'version' in probe ? probe.version : undefined;

/** tshark takes ~160 MB and most of a second to start: run a few at a time, not one per file at once. */
const MAX_RUNNING = Math.max(2, Math.min(4, availableParallelism()));
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(job: () => Promise<T>): Promise<T> {
  if (running >= MAX_RUNNING) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    return await job();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Runs tshark on `file` with the base preferences plus `extraArgs` and parses its JSON. */
export function tsharkPackets(file: string, extraArgs: readonly string[] = []): Promise<TsharkPacket[]> {
  return limited(() => runTshark(file, extraArgs));
}

function runTshark(file: string, extraArgs: readonly string[]): Promise<TsharkPacket[]> {
  const args = ['-r', file, '-T', 'json', ...TSHARK_BASE_ARGS, ...extraArgs];
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { maxBuffer: 512 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`tshark ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      try {
        resolve(packetsFromJson(parseOrderedJson(stdout)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

// ---------------------------------------------------------------- JSON with repeated keys

/** A JSON object as its entries, in order, duplicates kept. */
export interface OrderedObject {
  entries: Array<[string, OrderedJson]>;
}
export type OrderedJson = string | number | boolean | null | OrderedJson[] | OrderedObject;

export function isOrderedObject(v: OrderedJson): v is OrderedObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses JSON keeping every object entry (repeated keys included) in document order. */
export function parseOrderedJson(src: string): OrderedJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < src.length && ' \t\r\n'.includes(src[i]!)) i++;
  };
  const str = (): string => {
    // The string's extent: up to the first quote not escaped by a backslash.
    const start = i;
    i++;
    while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
    if (i >= src.length) fail('unterminated string');
    i++;
    return JSON.parse(src.slice(start, i)) as string;
  };
  const value = (): OrderedJson => {
    ws();
    const c = src[i];
    if (c === '{') {
      i++;
      const entries: Array<[string, OrderedJson]> = [];
      ws();
      if (src[i] === '}') {
        i++;
        return { entries };
      }
      for (;;) {
        ws();
        if (src[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (src[i] !== ':') fail('expected ":"');
        i++;
        entries.push([k, value()]);
        ws();
        if (src[i] === ',') i++;
        else if (src[i] === '}') {
          i++;
          return { entries };
        } else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: OrderedJson[] = [];
      ws();
      if (src[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value());
        ws();
        if (src[i] === ',') i++;
        else if (src[i] === ']') {
          i++;
          return items;
        } else fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(src.slice(i, i + 40));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return JSON.parse(m[0]) as OrderedJson;
  };
  const v = value();
  ws();
  if (i !== src.length) fail('trailing characters');
  return v;
}

// ---------------------------------------------------------------- tshark's layout

/** A key that names a protocol (lower-case, no dots) rather than a field or a text label. */
function isProtocolKey(k: string): boolean {
  return /^[a-z][a-z0-9_-]*$/.test(k);
}

function layerFrom(name: string, obj: OrderedObject): TsharkLayer {
  const layer: TsharkLayer = { name, fields: [], children: [] };
  const walk = (o: OrderedObject) => {
    for (const [k, v] of o.entries) {
      if (k.startsWith('_ws.')) continue; // expert info and malformed markers
      for (const item of Array.isArray(v) ? v : [v]) {
        if (isOrderedObject(item)) {
          // Either a nested protocol, or a field/text subtree whose children belong to this layer.
          if (isProtocolKey(k)) layer.children.push(layerFrom(k, item));
          else walk(item);
        } else if (typeof item === 'string') {
          layer.fields.push({ name: k, value: item });
        }
      }
    }
  };
  walk(obj);
  return layer;
}

function packetsFromJson(doc: OrderedJson): TsharkPacket[] {
  if (!Array.isArray(doc)) throw new Error('tshark JSON: expected an array of packets');
  return doc.map((p, n) => {
    const source = isOrderedObject(p) ? p.entries.find(([k]) => k === '_source')?.[1] : undefined;
    const layers =
      source && isOrderedObject(source) ? source.entries.find(([k]) => k === 'layers')?.[1] : undefined;
    if (!layers || !isOrderedObject(layers)) throw new Error(`tshark JSON: packet ${n + 1} has no layers`);
    return layers.entries
      .filter(([, v]) => isOrderedObject(v))
      .map(([k, v]) => layerFrom(k, v as OrderedObject));
  });
}
