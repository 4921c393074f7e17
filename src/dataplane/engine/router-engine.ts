/**
 * The IPv4 router: builds the stage graph over a set of ports and drives it — one received batch
 * at a time, then the packets the router originated because of it, then timers.
 *
 *   ingress ─┬─ eth-input ─┬─ arp-input ───────────────────────────────────┐
 *            └─ l3-input ──┴─ ip4-input ─ prerouting ─ ip4-lookup ─┬─ input ─ ip4-local ─ ip4-output ─ output ─┐
 *                                                                  └─ ip4-forward ─ forward ─────────────────┤
 *                               postrouting ─ ip4-fragment ─ eth-output ─ port-output ◄──────────────────────┘
 *
 * With `conntrack` set: conntrack-in before prerouting, nat-dst after it, conntrack-confirm-in
 * before ip4-local, conntrack-out between ip4-output and output, nat-src + conntrack-confirm
 * between postrouting and ip4-fragment (netfilter's priorities -200, dstnat, confirm, srcnat);
 * conntrack-in/-out send later fragments to ip4-frag-track(-out), which hands them on to
 * prerouting/output; tcp-unsolicited-syn sits between conntrack-confirm-in and ip4-local.
 *
 * With a host port (setHostPort): host-input after ip4-input sends the kernel's packets to
 * ip4-output (local output), and ip4-local hands what is for the kernel to host-delivery, which
 * continues at ip4-fragment.
 */

import type { ConntrackConfig } from '../../control/config/types.js';
import type { PacketBatch } from '../batch.js';
import { Conntrack } from '../conntrack/conntrack.js';
import { ctSettings } from '../conntrack/ct-timeouts.js';
import {
  ACT_BROADCAST_REQUEST,
  ACT_FAILED,
  ACT_UNICAST_REQUEST,
  type NeighbourTable,
} from '../neighbour/table.js';
import { NO_PORT } from '../pipeline/packet-meta.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { Port } from '../ports/port.js';
import { ArpInput } from '../stages/arp-input.js';
import { ArpOriginator } from '../stages/arp-originator.js';
import { ConntrackConfirm } from '../stages/conntrack-confirm.js';
import { ConntrackIn } from '../stages/conntrack-in.js';
import { EthInput } from '../stages/eth-input.js';
import { EthOutput } from '../stages/eth-output.js';
import { Hook, type HookName } from '../stages/hook.js';
import { HostDelivery, HostInput } from '../stages/host-delivery.js';
import { IcmpErrors } from '../stages/icmp-errors.js';
import { Ingress } from '../stages/ingress.js';
import { Ip4Forward } from '../stages/ip4-forward.js';
import { FRAG_VIA_OUTPUT, FRAG_VIA_PREROUTING, Ip4FragTrack } from '../stages/ip4-frag-track.js';
import { Ip4Fragment } from '../stages/ip4-fragment.js';
import { Ip4Input } from '../stages/ip4-input.js';
import { Ip4Local } from '../stages/ip4-local.js';
import { Ip4Lookup } from '../stages/ip4-lookup.js';
import { Ip4Output } from '../stages/ip4-output.js';
import { L3Input } from '../stages/l3-input.js';
import { NatDst } from '../stages/nat-dst.js';
import { NatSrc } from '../stages/nat-src.js';
import { NeighbourFailed } from '../stages/neighbour-failed.js';
import { OriginatedBatch } from '../stages/originator.js';
import { PortOutput } from '../stages/port-output.js';
import type { HostRouteLearner, RouteResolver } from '../stages/route-result.js';
import { RouterContext } from '../stages/router-context.js';
import { UnsolicitedSyn } from '../stages/unsolicited-syn.js';

/** Rounds of originated packets run per received batch (an echo reply may need an ARP request). */
const MAX_ORIGINATED_ROUNDS = 4;
/** Neighbour timers run at most this often (seconds of engine time). */
const TICK_INTERVAL = 0.1;
const MAX_TICK_STEPS = 600;

export interface RouterOptions {
  capacity?: number;
  hosts?: HostRouteLearner | null;
  /** Connection tracking and NAT; null/absent: no conntrack stages (packets stay untracked). */
  conntrack?: ConntrackConfig | null;
  /**
   * State handoff for a reload (`ferry run` rebuilds the router over the same ports): the
   * replaced engine's neighbour table and flow table (with its NAT bindings) are used as they are
   * instead of fresh ones, so resolved neighbours and established flows survive the swap. The
   * caller checks that `carry.conntrack` was built with this config's capacity and liberal mode.
   */
  carry?: { neighbours: NeighbourTable; conntrack: Conntrack | null };
}

export class RouterEngine {
  readonly pipe: Pipeline;
  readonly ctx: RouterContext;
  readonly arpOut: ArpOriginator;
  readonly icmp: IcmpErrors;
  readonly hooks: Record<HookName, Hook>;
  readonly ingress: Ingress;
  readonly local: Ip4Local;
  readonly fragment: Ip4Fragment;
  readonly arpIn: ArpInput;
  /** The host port's stages (host-delivery.ts): wired by setHostPort(). */
  readonly hostDelivery: HostDelivery;
  private readonly hostInput: HostInput;
  private readonly ip4In: Ip4Input;
  /** Connection tracking and NAT state, when enabled. */
  readonly conntrack: Conntrack | null;
  private spare = new OriginatedBatch();
  private lastTick = Number.NEGATIVE_INFINITY;
  private readonly neighbourFailed: NeighbourFailed;
  private readonly tickHooks: ((now: number) => void)[] = [];

  constructor(
    readonly ports: Port[],
    routes: RouteResolver,
    opts: RouterOptions = {},
  ) {
    const pipe = new Pipeline(Math.max(opts.capacity ?? 256, 256));
    this.pipe = pipe;
    const ctx = new RouterContext(ports, routes, opts.carry?.neighbours);
    this.ctx = ctx;
    const add = pipe.add.bind(pipe);
    // Stages are added in topological order: the dispatcher runs them in this order.
    const ingress = add(new Ingress(pipe, ctx));
    const ethIn = add(new EthInput(pipe, ctx));
    const l3In = add(new L3Input(pipe));
    this.arpOut = new ArpOriginator(ctx);
    const arpIn = add(new ArpInput(pipe, ctx, this.arpOut, opts.hosts ?? null));
    const ip4In = add(new Ip4Input(pipe, ctx));
    let ip4Output: Ip4Output | null = null;
    this.icmp = new IcmpErrors(pipe, ctx, () => ip4Output!);
    // host port: the kernel's packets leave the input path here (see setHostPort).
    const hostDelivery = new HostDelivery(pipe, ctx, this.icmp);
    const hostInput = add(new HostInput(ctx, hostDelivery));
    // ---- conntrack/NAT (optional): conntrack-in before prerouting, nat-dst after it, confirm
    // before local delivery, conntrack-out before output, nat-src + confirm after postrouting.
    const carried = opts.carry?.conntrack ?? null;
    if (carried && carried.pMap.length < pipe.capacity) throw new Error('carried conntrack has fewer slots');
    const ct = opts.conntrack
      ? (carried ?? new Conntrack({ ...ctSettings(opts.conntrack), slots: pipe.capacity }))
      : null;
    this.conntrack = ct;
    const ctIn = ct ? add(new ConntrackIn(pipe, ctx, ct)) : null;
    const prerouting = add(new Hook(pipe, 'prerouting', this.icmp));
    const natDst = ct ? add(new NatDst(ct)) : null;
    const lookup = add(new Ip4Lookup(pipe, ctx, this.icmp));
    const input = add(new Hook(pipe, 'input', this.icmp));
    const confirmIn = ct ? add(new ConntrackConfirm(pipe, ct, 'conntrack-confirm-in')) : null;
    // RFC 5382 REQ-4: unsolicited inbound SYNs are held 6 s, then answered (unsolicited-syn: icmp).
    const synHold =
      ct && opts.conntrack?.unsolicitedSyn !== 'drop'
        ? add(new UnsolicitedSyn(pipe, ctx, ct, this.icmp, hostDelivery))
        : null;
    const local = add(new Ip4Local(pipe, ctx, this.icmp));
    add(hostDelivery);
    ip4Output = add(new Ip4Output(pipe, ctx));
    const ctOut = ct ? add(new ConntrackIn(pipe, ctx, ct, 'conntrack-out')) : null;
    const output = add(new Hook(pipe, 'output', this.icmp));
    const forward = add(new Ip4Forward(pipe, ctx, this.icmp));
    const forwardHook = add(new Hook(pipe, 'forward', this.icmp));
    const postrouting = add(new Hook(pipe, 'postrouting', this.icmp));
    const natSrc = ct ? add(new NatSrc(pipe, ctx, ct, this.icmp)) : null;
    const confirm = ct ? add(new ConntrackConfirm(pipe, ct)) : null;
    // After confirm, so a first fragment has passed before its batch's later fragments are seen.
    const fragIn = ct ? add(new Ip4FragTrack(pipe, ctx, ct, FRAG_VIA_PREROUTING)) : null;
    const fragOut = ct ? add(new Ip4FragTrack(pipe, ctx, ct, FRAG_VIA_OUTPUT, 'ip4-frag-track-out')) : null;
    if (synHold) add(synHold.answer);
    const fragment = add(new Ip4Fragment(pipe, ctx));
    this.neighbourFailed = add(new NeighbourFailed(pipe, this.icmp));
    const ethOut = add(new EthOutput(pipe, ctx, this.arpOut));
    const portOut = add(new PortOutput(pipe, ctx));

    ingress.eth = ethIn;
    ingress.l3 = l3In;
    ethIn.arp = arpIn;
    ethIn.ip4 = ip4In;
    l3In.ip4 = ip4In;
    arpIn.reply = portOut;
    arpIn.release = ethOut;
    ip4In.next = prerouting;
    prerouting.next = lookup;
    lookup.local = input;
    lookup.forward = forward;
    input.next = local;
    local.output = ip4Output;
    ip4Output.next = output;
    output.next = postrouting;
    forward.next = forwardHook;
    forwardHook.next = postrouting;
    postrouting.next = fragment;
    fragment.next = ethOut;
    fragment.fragmentsTo = ethOut;
    ethOut.next = portOut;
    this.arpOut.portOutput = portOut;
    if (ctIn && natDst && confirmIn && ctOut && natSrc && confirm) {
      ip4In.next = ctIn;
      ctIn.next = prerouting;
      prerouting.next = natDst;
      natDst.next = lookup;
      input.next = confirmIn;
      confirmIn.next = local;
      ip4Output.next = ctOut;
      ctOut.next = output;
      postrouting.next = natSrc;
      natSrc.next = confirm;
      confirm.next = fragment;
    }
    if (ctIn && ctOut && fragIn && fragOut) {
      ctIn.frag = fragIn;
      fragIn.next = prerouting;
      ctOut.frag = fragOut;
      fragOut.next = output;
      this.onTick((now) => fragIn.tick(now));
    }
    if (confirmIn && synHold) {
      confirmIn.next = synHold;
      synHold.next = local;
      this.onTick((now) => synHold.tick(now));
    }
    // ---- end conntrack/NAT wiring

    this.hooks = { prerouting, input, forward: forwardHook, output, postrouting };
    this.ingress = ingress;
    this.local = local;
    this.fragment = fragment;
    this.arpIn = arpIn;
    this.hostDelivery = hostDelivery;
    this.hostInput = hostInput;
    this.ip4In = ip4In;
    hostInput.output = ip4Output;
    hostDelivery.next = fragment;
  }

  /**
   * Makes `port` the host port (host-delivery.ts): the kernel's TAP. Packets for its addresses
   * that ferry does not consume are delivered there, the kernel's packets take the local-output
   * path, and proxy-ARP answers the kernel for whatever routes out of another port.
   */
  setHostPort(port: number): void {
    const ctx = this.ctx;
    if (ctx.hostPort === port) return;
    if (ctx.hostPort !== NO_PORT) throw new Error('setHostPort: the router already has a host port');
    ctx.hostPort = port;
    ctx.proxyArp[port] = 1;
    this.hostInput.next = this.ip4In.next;
    this.ip4In.next = this.hostInput;
    this.local.host = this.hostDelivery;
  }

  /** Registers an address the kernel carries on the host port (it may also be another port's). */
  addHostAddress(addr: number, prefixLen: number): void {
    this.ctx.hostAddrs.add(addr, prefixLen, this.ctx.hostPort);
  }

  /**
   * Processes one received batch. The engine clock becomes the batch's last timestamp (capture
   * time in replay, kernel receive time live) unless `now` (seconds) is given; timers that fall
   * due before it run first. `rxOffload`: the batch's offload descriptors (port-meta.ts layout);
   * by default those of the receiving port (Port.rxOffload).
   */
  receive(batch: PacketBatch, now?: number, rxOffload?: Uint16Array | null): void {
    const last = batch.count - 1;
    const exact = now === undefined && last >= 0;
    const t = exact ? batch.tsSec[last]! + batch.tsNsec[last]! / 1e9 : (now ?? this.ctx.now);
    this.advanceTo(t);
    if (exact) this.ctx.setClock(batch.tsSec[last]!, batch.tsNsec[last]!);
    else this.ctx.setClockSeconds(t);
    this.ingress.rxOffload =
      rxOffload !== undefined
        ? rxOffload
        : last >= 0
          ? (this.ports[batch.port[0]!]?.rxOffload ?? null)
          : null;
    this.pipe.run(batch, this.ingress);
    this.ingress.rxOffload = null;
    this.runOriginated();
  }

  /**
   * Runs the timers that fall due up to `now`, in steps of TICK_INTERVAL so that a retransmission
   * schedule plays out as it would have live even across a quiet gap in a capture. A long gap is
   * crossed in at most MAX_TICK_STEPS steps.
   */
  advanceTo(now: number): void {
    if (this.lastTick === Number.NEGATIVE_INFINITY) {
      this.lastTick = now;
      return;
    }
    const gap = now - this.lastTick;
    if (gap < TICK_INTERVAL) return;
    const step = Math.max(TICK_INTERVAL, gap / MAX_TICK_STEPS);
    const from = this.lastTick;
    const steps = Math.floor(gap / step + 1e-9);
    for (let i = 1; i <= steps; i++) this.tick(from + i * step);
  }

  /** Advances timers: ARP retransmissions and failures, then what they originated. */
  tick(now: number): void {
    const ctx = this.ctx;
    ctx.setClockSeconds(now);
    this.lastTick = now;
    const neigh = ctx.neighbours;
    const nAct = neigh.tick(now);
    for (let i = 0; i < nAct; i++) {
      const e = neigh.actEntry[i]!;
      const kind = neigh.actKind[i]!;
      const port = neigh.port[e]!;
      if (kind === ACT_BROADCAST_REQUEST) this.arpOut.request(neigh.ip[e]!, port, 0);
      else if (kind === ACT_UNICAST_REQUEST) this.arpOut.request(neigh.ip[e]!, port, neigh.mac[e]!);
      else if (kind === ACT_FAILED) this.failQueue(e, port);
    }
    for (const fn of this.tickHooks) fn(now);
    this.runOriginated();
  }

  /** Sends gratuitous ARP for every address on every Ethernet port (at start, RFC 5227 §3). */
  announce(now: number): void {
    this.ctx.setClockSeconds(now);
    const local = this.ctx.local;
    for (let i = 0; i < local.count; i++) {
      const port = local.port[i]!;
      if (this.ctx.portL2[port] === 1) this.arpOut.announce(local.addr[i]!, port);
    }
    this.runOriginated();
  }

  private failQueue(e: number, port: number): void {
    const neigh = this.ctx.neighbours;
    const o = this.ctx.originated;
    for (let q = neigh.nextQueued(e); q >= 0; q = neigh.nextQueued(e)) {
      const slot = o.alloc(this.neighbourFailed, 0x0800, port);
      if (slot >= 0) {
        const len = neigh.poolLen[q]!;
        o.batch.data.set(
          neigh.pool.subarray(q * neigh.slotBytes, q * neigh.slotBytes + len),
          o.batch.offset[slot]!,
        );
        o.batch.length[slot] = len;
      }
      neigh.release(q);
    }
  }

  /** Runs what the router originated, in rounds (originated packets may originate more). */
  private runOriginated(): void {
    for (let round = 0; round < MAX_ORIGINATED_ROUNDS; round++) {
      const batch = this.ctx.originated;
      if (batch.batch.count === 0) return;
      this.ctx.originated = this.spare;
      this.spare = batch;
      const m = this.pipe.meta;
      const b = batch.batch;
      for (let i = 0; i < b.count; i++) {
        m.admit(i, batch.inPort[i]!, b.offset[i]!);
        m.outPort[i] = batch.outPort[i]!;
        m.nextHop[i] = batch.nextHop[i]!;
        m.etherType[i] = batch.etherType[i]!;
        if (batch.etherType[i] === 0x0800) {
          m.l3Len[i] = b.length[i]!;
          m.l4Off[i] = b.offset[i]! + (b.data[b.offset[i]!]! & 15) * 4;
        }
        b.tsSec[i] = this.ctx.nowSec;
        b.tsNsec[i] = this.ctx.nowNsec;
      }
      this.pipe.runEach(b, batch.entry);
      batch.clear();
    }
    if (this.ctx.originated.batch.count > 0) this.ctx.originated.clear();
  }

  /** Registers an address of the router on a port. */
  addAddress(addr: number, prefixLen: number, port: number): void {
    this.ctx.local.add(addr, prefixLen, port);
  }

  /** Withdraws an address of the router from a port (a DHCP lease lost); false if it was not there. */
  removeAddress(addr: number, port: number): boolean {
    return this.ctx.local.remove(addr, port);
  }

  /**
   * Control-plane timers (the DHCP client): called on every tick with the engine clock, after the
   * neighbour timers; what they originate runs in the same tick.
   */
  onTick(fn: (now: number) => void): void {
    this.tickHooks.push(fn);
  }

  setProxyArp(port: number, on: boolean): void {
    this.ctx.proxyArp[port] = on ? 1 : 0;
  }

  /** Drops counted so far, by reason. */
  drops(): Record<string, number> {
    return this.pipe.drops.snapshot();
  }

  static readonly NO_PORT = NO_PORT;
}
