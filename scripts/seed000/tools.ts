/** The programs seed 000 live runs (the topology, the client, the captures). */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const SEED000_TOOLS = [
  'ip',
  'nft',
  'nsenter',
  'wireguard-go',
  'wg',
  'dnsmasq',
  'udhcpc',
  'tcpdump',
  'curl',
  'ping',
  'python3',
] as const;

/** Those of SEED000_TOOLS not found on PATH (or in /usr/sbin, /sbin). */
export function missingTools(): string[] {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  const found = (tool: string) =>
    dirs.some((d) => {
      try {
        accessSync(join(d, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return SEED000_TOOLS.filter((t) => !found(t));
}
