/**
 * WireGuard key files: checked before anything is created, generated when the private key is
 * missing. A key never appears on a command line or in a message: `wg set` reads the file,
 * `wg pubkey` reads the key on stdin, and errors name the file and the fault only.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Host, mustRun } from './host.js';

/** 32 bytes in base64: 43 significant characters, the last of them carrying 2 bits, then "=". */
const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export type KeyKind = 'private key' | 'preshared key';

export class KeyFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/**
 * What is wrong with a key file's text, or null when it holds one key. As `wg` reads key files:
 * exactly 44 base64 characters at the start, then only whitespace (wg's parse_keyfile; an empty
 * file would silently mean "no key" to wg, so it is an error here).
 */
export function keyTextProblem(text: string): string | null {
  if (text.trim() === '') return 'is empty';
  const key = text.slice(0, 44);
  const rest = text.slice(44);
  if (!KEY_RE.test(key) || rest.trim() !== '') {
    return 'does not hold a WireGuard key (44 characters of base64, as `wg genkey` writes)';
  }
  return null;
}

/** Group/other permission bits, as an octal mode for messages, or null when there are none. */
export function looseMode(mode: number): string | null {
  return (mode & 0o077) !== 0 ? (mode & 0o777).toString(8).padStart(4, '0') : null;
}

export interface KeyFileCheck {
  /** Set when the file is readable by group or others ("0644"): worth a warning, as wg gives. */
  readonly looseMode: string | null;
}

/** Checks an existing key file: a regular file, readable, one key. Throws KeyFileError. */
export function checkKeyFile(file: string, kind: KeyKind): KeyFileCheck {
  let mode: number;
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new KeyFileError(file, `${kind} file ${file} is not a regular file`);
    mode = st.mode;
    text = readFileSync(file, 'latin1');
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`;
    throw new KeyFileError(file, `${kind} file ${file} ${why}`);
  }
  const problem = keyTextProblem(text);
  if (problem) throw new KeyFileError(file, `${kind} file ${file} ${problem}`);
  return { looseMode: looseMode(mode) };
}

/**
 * Writes `text` to `file` with mode 0600 so that no reader ever sees a partial file or a wider
 * mode: a temporary file in the same directory, fsync, rename. The parent is created 0700.
 */
export function writeSecretFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A new private key from `wg genkey`, written to `file`; returns the public key (`wg pubkey`). */
export async function generatePrivateKey(host: Host, file: string): Promise<string> {
  const priv = (await mustRun(host, 'generating a WireGuard key', 'wg', ['genkey'])).stdout.trim();
  if (keyTextProblem(priv) !== null) throw new Error('`wg genkey` printed something that is not a key');
  try {
    writeSecretFile(file, `${priv}\n`);
  } catch (e) {
    throw new KeyFileError(file, `cannot write private key file ${file}: ${(e as Error).message}`);
  }
  return publicKeyOf(host, priv);
}

/** `wg pubkey`, the private key on stdin. */
export async function publicKeyOf(host: Host, privateKey: string): Promise<string> {
  const r = await mustRun(host, 'deriving a public key', 'wg', ['pubkey'], `${privateKey}\n`);
  return r.stdout.trim();
}
