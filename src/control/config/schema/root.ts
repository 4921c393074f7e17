/**
 * The whole file: one map of sections, each validated on its own so that a mistake in one
 * section does not hide the problems of the others. Only `ports` is required.
 */
import { z } from 'zod';
import { chainsSchema, setsSchema } from './chains.js';
import { list, obj, section } from './common.js';
import { portSchema } from './ports.js';
import { rulesSchema, tablesSchema } from './routing.js';
import { conntrackSchema, dhcpRelaySchema, failoverSchema, l2tpSchema, overlaySchema } from './services.js';

export const SECTION_SCHEMAS = {
  ports: list(portSchema, 'a list of ports', 1),
  tables: section(tablesSchema),
  rules: section(rulesSchema),
  sets: section(setsSchema),
  chains: section(chainsSchema),
  conntrack: section(conntrackSchema),
  'dhcp-relay': section(dhcpRelaySchema),
  overlay: section(overlaySchema),
  failover: section(failoverSchema),
  l2tp: section(l2tpSchema),
};

export type Section = keyof typeof SECTION_SCHEMAS;

export const SECTIONS = Object.keys(SECTION_SCHEMAS) as Section[];

/** Only the top level's keys: which sections exist (their contents are checked per section). */
export const topLevelSchema = obj(
  Object.fromEntries(SECTIONS.map((s) => [s, z.unknown().optional()])) as Record<
    Section,
    z.ZodOptional<z.ZodUnknown>
  >,
  `a map of sections (${SECTIONS.join(', ')})`,
);

export type RawConfig = { [K in Section]: z.output<(typeof SECTION_SCHEMAS)[K]> };
