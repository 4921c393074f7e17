/**
 * V8 settings the hot path depends on. Import this first, before any stage runs.
 *
 * TurboFan stops inlining once a function has pulled in 920 bytes of bytecode from its callees
 * (`--max-inlined-bytecode-size-cumulative`). A stage loop that wraps four views and reads a dozen
 * fields exceeds that, and every accessor left as a real call must box its result when it is not
 * a small integer: a 192.168.x.x address (above 2^31) or a 48-bit MAC becomes a heap number per
 * packet. Measured on this machine (bench/wire.bench.ts): Ethernet+IPv4+UDP decode of a 64-byte
 * frame with 192.168/16 addresses took 52 ns with ~1 GC per 250k packets at the default, and
 * 23 ns with no GC at all with a 4000-byte budget.
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--max-inlined-bytecode-size-cumulative=4000');
