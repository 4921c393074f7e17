import { readFileSync } from 'node:fs';

/** ferry's version, from package.json (read once, at startup). */
export function ferryVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}
