import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/control/cli/program.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('ferry CLI', () => {
  it('check prints a one-line summary for a valid config', async () => {
    const r = await run('check', '-c', `${root}examples/brouter.yaml`);
    expect(r).toEqual({
      code: 0,
      out: `${root}examples/brouter.yaml: ok (4 ports, 2 tables, 1 rules, 2 chain rules)\n`,
      err: '',
    });
  });

  it.each([
    ['bypass.yaml', '2 ports, 1 tables, 0 rules, 7 chain rules'],
    ['dnat-vpn-return.yaml', '2 ports, 2 tables, 1 rules, 5 chain rules'],
    ['dnat-vpn-remote.yaml', '2 ports, 1 tables, 0 rules, 4 chain rules'],
    ['dual-wan.yaml', '5 ports, 2 tables, 3 rules, 37 chain rules'],
    ['l2tp-broker.yaml', '2 ports, 0 tables, 0 rules, 0 chain rules'],
  ])('check %s', async (name, counts) => {
    const r = await run('check', '--config', `${root}examples/${name}`);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${root}examples/${name}: ok (${counts})\n`);
  });

  it('check lists every error on stderr and exits 1', async () => {
    const r = await run('check', '-c', `${root}test/unit/config/bad.yaml`);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toEqual([
      `${root}test/unit/config/bad.yaml:8:11: tables["100"][0].to: "192.168.1.5/24" has host bits set (the network is 192.168.1.0/24)`,
      `${root}test/unit/config/bad.yaml:14:23: chains.forward.rules[0].match.iif: no port named "eht0" (did you mean "eth0"?)`,
      `${root}test/unit/config/bad.yaml:18:13: dhcp-relay.servers[0]: "192.168.0.300" is not an IPv4 address`,
      `${root}test/unit/config/bad.yaml: 3 errors`,
      '',
    ]);
  });

  it('check reports an unreadable file', async () => {
    const r = await run('check', '-c', '/nonexistent.yaml');
    expect(r).toEqual({
      code: 1,
      out: '',
      err: '/nonexistent.yaml: cannot read: no such file\n/nonexistent.yaml: 1 error\n',
    });
  });

  it('--version, --help, and usage errors', async () => {
    expect(await run('--version')).toEqual({ code: 0, out: '0.1.0\n', err: '' });
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: ferry \[options\] \[command\]/);
    expect(help.out).toMatch(/check \[options\]/);
    const missing = await run('check');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/required option '-c, --config <file>' not specified/);
    const typo = await run('chek');
    expect(typo.code).toBe(1);
    expect(typo.err).toMatch(/Did you mean check\?/);
  });

  it('runs as the installed command (bin/ferry.js through tsx)', async () => {
    const r = await execa('node', ['bin/ferry.js', 'check', '-c', 'examples/dual-wan.yaml'], {
      cwd: root,
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('examples/dual-wan.yaml: ok (5 ports, 2 tables, 3 rules, 37 chain rules)');
    const bad = await execa('node', ['bin/ferry.js', 'check', '-c', 'test/unit/config/bad.yaml'], {
      cwd: root,
      reject: false,
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/^test\/unit\/config\/bad\.yaml:8:11: tables\["100"\]\[0\]\.to: /);
  });
});
