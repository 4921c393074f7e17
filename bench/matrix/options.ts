/**
 * `npm run bench [-- --quick] [-- --only replay|live|scale] [-- --engines a,b]`: which sections and
 * how big. The full matrix takes about 15–25 minutes on the 2-core machine, --quick a few.
 */
import { ENGINE_IDS, type EngineId } from './live/engines.js';
import { REPLAY_CASES } from './replay/cases.js';

export const SECTIONS = ['replay', 'live', 'scale'] as const;
export type Section = (typeof SECTIONS)[number];

export interface MatrixOptions {
  quick: boolean;
  sections: Section[];
  replay: { cases: string[]; runs: number; packetsPerRun: number; warmupPackets: number };
  live: {
    engines: EngineId[];
    rounds: number;
    secs: number;
    pingCount: number;
    udpPayload: number;
    udpSenders: number;
    tcpStreams: number;
  };
  scale: { sizes: number[]; runs: number };
  /** Longest wait for other load to drop before a measurement, seconds. */
  quietWaitSec: number;
}

export const USAGE =
  'usage: npm run bench [-- --quick] [-- --only replay|live|scale[,...]] [-- --engines id,...]';

function list<T extends string>(v: string, known: readonly T[], what: string): T[] {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new Error(`${what}: empty list; known: ${known.join(', ')}`);
  for (const x of items)
    if (!known.includes(x as T)) throw new Error(`${what}: unknown "${x}"; known: ${known.join(', ')}`);
  return items as T[];
}

export function parseOptions(argv: string[]): MatrixOptions {
  let quick = false;
  let sections: Section[] = [...SECTIONS];
  let engines: EngineId[] = [...ENGINE_IDS];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value. ${USAGE}`);
      return v;
    };
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) sections = list(value(), SECTIONS, '--only');
    else if (a === '--engines' || a.startsWith('--engines='))
      engines = list(value(), ENGINE_IDS, '--engines');
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${a}. ${USAGE}`);
  }
  return {
    quick,
    sections: SECTIONS.filter((s) => sections.includes(s)),
    replay: quick
      ? { cases: REPLAY_CASES.map((c) => c.id), runs: 3, packetsPerRun: 300_000, warmupPackets: 200_000 }
      : { cases: REPLAY_CASES.map((c) => c.id), runs: 7, packetsPerRun: 2_000_000, warmupPackets: 1_000_000 },
    live: {
      engines,
      rounds: quick ? 1 : 5,
      secs: quick ? 2 : 8,
      pingCount: quick ? 50 : 200,
      udpPayload: 64,
      udpSenders: 2,
      tcpStreams: 4,
    },
    scale: quick ? { sizes: [10_000, 100_000], runs: 1 } : { sizes: [10_000, 100_000, 1_000_000], runs: 3 },
    quietWaitSec: quick ? 2 : 4,
  };
}
