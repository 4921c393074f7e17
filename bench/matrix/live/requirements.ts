/** Why the live section cannot run here (not root, a tool missing), or undefined when it can. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const LIVE_TOOLS = ['ip', 'nft', 'ethtool', 'iperf3', 'ping', 'gcc', 'nice'];

function onPath(tool: string): boolean {
  for (const d of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']) {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

export function liveUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, AF_PACKET): run `sudo npm run bench`';
  const missing = LIVE_TOOLS.filter((t) => !onPath(t));
  if (missing.length)
    return `missing tools: ${missing.join(', ')} (scripts/install-system-deps.sh installs them)`;
  return undefined;
}
