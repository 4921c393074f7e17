import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkKeyFile,
  keyTextProblem,
  looseMode,
  writeSecretFile,
} from '../../../src/control/overlay/keys.js';

const KEY = 'ENmisNpg/QP7Wx1A+58/m9Yb0JlraH3WmD5hAjTf4E8=';

describe('key text, as wg reads a key file', () => {
  it('accepts one key with trailing whitespace', () => {
    expect(keyTextProblem(KEY)).toBeNull();
    expect(keyTextProblem(`${KEY}\n`)).toBeNull();
    expect(keyTextProblem(`${KEY} \r\n\n`)).toBeNull();
  });

  it('rejects empty files, garbage, leading space, trailing text, 33-byte keys, bad last digits', () => {
    expect(keyTextProblem('')).toBe('is empty');
    expect(keyTextProblem('\n\n')).toBe('is empty');
    for (const bad of [
      'hello world',
      ` ${KEY}`,
      `${KEY}x`,
      `${KEY}\n${KEY}`,
      KEY.slice(0, 43),
      `${KEY.slice(0, 43)}==`,
      // the 43rd character carries only 2 bits: "F" would leave stray bits set
      `${KEY.slice(0, 42)}F=`,
      '-----BEGIN PRIVATE KEY-----',
    ]) {
      expect(keyTextProblem(bad), bad).toMatch(/does not hold a WireGuard key/);
    }
  });

  it('flags any group or other permission bit', () => {
    expect(looseMode(0o100600)).toBeNull();
    expect(looseMode(0o100400)).toBeNull();
    expect(looseMode(0o100640)).toBe('0640');
    expect(looseMode(0o100604)).toBe('0604');
    expect(looseMode(0o100620)).toBe('0620');
  });
});

describe('key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a 0600 key and reports a world-readable one', () => {
    const good = join(dir, 'good.key');
    writeFileSync(good, `${KEY}\n`, { mode: 0o600 });
    expect(checkKeyFile(good, 'private key')).toEqual({ looseMode: null });
    chmodSync(good, 0o644);
    expect(checkKeyFile(good, 'private key')).toEqual({ looseMode: '0644' });
  });

  it('names the file and the fault, never the content', () => {
    const garbage = join(dir, 'garbage.key');
    writeFileSync(garbage, 'not-a-key-but-secret-looking-text', { mode: 0o600 });
    const err = (() => {
      try {
        checkKeyFile(garbage, 'private key');
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err?.message).toBe(
      `private key file ${garbage} does not hold a WireGuard key (44 characters of base64, as \`wg genkey\` writes)`,
    );
    expect(err?.message).not.toContain('secret-looking');
    expect(() => checkKeyFile(join(dir, 'nope.psk'), 'preshared key')).toThrow(
      `preshared key file ${join(dir, 'nope.psk')} does not exist`,
    );
    expect(() => checkKeyFile(dir, 'private key')).toThrow(`private key file ${dir} is not a regular file`);
    const empty = join(dir, 'empty.key');
    writeFileSync(empty, '');
    expect(() => checkKeyFile(empty, 'private key')).toThrow(`private key file ${empty} is empty`);
  });

  it('writes secrets 0600 in a 0700 directory it creates, leaving no temporary file', () => {
    const sub = join(dir, 'new', 'deeper');
    const file = join(sub, 'wg0.key');
    writeSecretFile(file, `${KEY}\n`);
    expect(readFileSync(file, 'utf8')).toBe(`${KEY}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(sub).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o700);
    expect(readdirSync(sub)).toEqual(['wg0.key']);
  });

  it('does not loosen an existing directory', () => {
    const existing = join(dir, 'shared');
    mkdirSync(existing, { mode: 0o755 });
    chmodSync(existing, 0o755);
    writeSecretFile(join(existing, 'k'), KEY);
    expect(statSync(existing).mode & 0o777).toBe(0o755);
    expect(statSync(join(existing, 'k')).mode & 0o777).toBe(0o600);
  });
});
