/** What compileRuleset refuses, and the words it uses. */
import { describe, expect, it } from 'vitest';
import type { ChainConfig, SetConfig } from '../../../src/control/config/types.js';
import { compileRuleset, RulesetError, rulesetDeps } from '../../../src/dataplane/classifier/index.js';
import { routerRig } from '../../helpers/classifier-rig.js';
import { ip } from '../../helpers/frames.js';
import {
  ACCEPT,
  addrSet,
  addrs,
  chain,
  goto,
  ipv4Set,
  jump,
  portNumbers,
  portSet,
  portsOf,
  rule,
} from '../../helpers/ruleset-builders.js';

function compile(chains: ChainConfig[], sets: SetConfig[] = []): () => void {
  const r = routerRig();
  return () => compileRuleset(chains, sets, r.ports.length, rulesetDeps(r.engine));
}

const wan = { negate: false, ports: [1] };

describe('compile errors', () => {
  it('oif at prerouting or input, where routing has not chosen a port yet', () => {
    expect(compile([chain(0, 'pre', 'prerouting', [rule({ oif: wan }, ACCEPT)])])).toThrow(
      'chain pre rule 1: oif needs a hook after routing has chosen the output port (forward, output, postrouting); this chain runs at prerouting',
    );
    expect(compile([chain(0, 'in', 'input', [rule({}, ACCEPT), rule({ oif: wan }, ACCEPT)])])).toThrow(
      /chain in rule 2: oif .* runs at input$/,
    );
  });

  it('oif in a user chain reached from input names the base chain', () => {
    expect(
      compile([
        chain(0, 'fwd', 'forward', [rule({}, jump(2))]),
        chain(1, 'in', 'input', [rule({}, goto(2))]),
        chain(2, 'shared', null, [rule({ oif: wan }, ACCEPT)]),
      ]),
    ).toThrow(
      'chain shared rule 1: oif needs a hook after routing has chosen the output port (forward, output, postrouting); this chain runs at input (reached from base chain in)',
    );
  });

  it('oif at forward, output and postrouting compiles', () => {
    for (const hook of ['forward', 'output', 'postrouting'] as const) {
      expect(compile([chain(0, 'c', hook, [rule({ oif: wan }, ACCEPT)])])).not.toThrow();
    }
  });

  it('jump and goto loops', () => {
    expect(
      compile([
        chain(0, 'base', 'input', [rule({}, jump(1))]),
        chain(1, 'a', null, [rule({}, jump(2))]),
        chain(2, 'b', null, [rule({}, goto(1))]),
      ]),
    ).toThrow('jumps make a loop: a → b → a');
    expect(compile([chain(0, 'self', null, [rule({}, goto(0))])])).toThrow('jumps make a loop: self → self');
  });

  it('jump targets must exist and be user chains', () => {
    expect(compile([chain(0, 'base', 'input', [rule({}, jump(5))])])).toThrow(
      'chain base rule 1: jump to chain #5, which does not exist',
    );
    expect(compile([chain(0, 'a', 'input', [rule({}, goto(1))]), chain(1, 'b', 'forward', [])])).toThrow(
      'chain a rule 1: cannot goto to base chain b; jump targets are chains without a hook',
    );
  });

  it('ports need a protocol that has them', () => {
    expect(compile([chain(0, 'c', 'input', [rule({ dport: portsOf(22) }, ACCEPT)])])).toThrow(
      'chain c rule 1: dport needs proto tcp, udp, sctp or udplite',
    );
    expect(compile([chain(0, 'c', 'input', [rule({ proto: 1, sport: portsOf(22) }, ACCEPT)])])).toThrow(
      /sport needs proto/,
    );
  });

  it('a rule that mixes IPv4 and IPv6 could never match', () => {
    expect(
      compile([
        chain(0, 'c', 'input', [rule({ src: addrs('10.0.0.0/8'), dst: addrs('2001:db8::/32') }, ACCEPT)]),
      ]),
    ).toThrow('chain c rule 1: mixes IPv4 and IPv6 addresses, so it could never match');
    expect(
      compile([
        chain(0, 'c', 'prerouting', [
          rule(
            { dst: addrs('2001:db8::/32') },
            { kind: 'dnat', addr: { family: 4, addr: ip('10.0.0.1') }, ports: null },
          ),
        ]),
      ]),
    ).toThrow(/mixes IPv4 and IPv6/);
  });

  it('statements after a verdict, unknown ports, sets of the wrong kind', () => {
    expect(compile([chain(0, 'c', 'input', [rule({}, ACCEPT, { kind: 'counter' })])])).toThrow(
      'chain c rule 1: "accept" ends the rule, so the statements after it would never run',
    );
    expect(compile([chain(0, 'c', 'input', [rule({ iif: { negate: false, ports: [7] } }, ACCEPT)])])).toThrow(
      'chain c rule 1: iif names port #7, but there are 3 ports',
    );
    const ports = portNumbers(0, 'web', 80);
    const nets = ipv4Set(1, 'nets', '10.0.0.0/8');
    expect(compile([chain(0, 'c', 'input', [rule({ src: addrSet(ports) }, ACCEPT)])], [ports, nets])).toThrow(
      'chain c rule 1: src refers to set web, which holds ports',
    );
    expect(
      compile([chain(0, 'c', 'input', [rule({ proto: 6, dport: portSet(nets) }, ACCEPT)])], [ports, nets]),
    ).toThrow('chain c rule 1: dport refers to set nets, which holds ipv4 prefixes');
  });

  it('errors are RulesetErrors', () => {
    expect(compile([chain(0, 'self', null, [rule({}, goto(0))])])).toThrow(RulesetError);
  });
});
