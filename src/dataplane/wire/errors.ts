/**
 * Why a decoder refused a buffer. Decoders never throw on bad input: `wrap()` returns one of
 * these codes (0 = Ok), and the pipeline counts drops by the code's name (`wireErrorName`).
 * Numeric codes keep the hot path free of allocation; names are for counters and traces.
 */
export enum WireError {
  Ok = 0,
  /** Fewer bytes than the fixed header needs. */
  Truncated = 1,
  /** A length field points past the end of the buffer. */
  BadLength = 2,
  /** IPv4/IPv6 version nibble is not what the protocol demands. */
  BadVersion = 3,
  /** IPv4 IHL < 5, TCP data offset < 5, or an option runs past its header. */
  BadHeaderLength = 4,
  /** A checksum that must be valid is not. */
  BadChecksum = 5,
  /** An option or TLV is malformed (zero length, overrun, wrong fixed size). */
  BadOption = 6,
  /** A field holds a value the protocol forbids (ARP hardware type, DHCP magic cookie, …). */
  BadValue = 7,
  /** A chain of extension headers / VLAN tags / options is longer than we are willing to walk. */
  TooDeep = 8,
  /** The view does not carry this protocol (wrong EtherType / next header). */
  Unsupported = 9,
  /** An in-place insertion (DHCP option 82) would not fit the buffer or the allowed length. */
  NoRoom = 10,
  /** Something that may appear once is already there (DHCP option 82 before a relay adds its own). */
  Duplicate = 11,
}

const NAMES: readonly string[] = [
  'ok',
  'truncated',
  'bad-length',
  'bad-version',
  'bad-header-length',
  'bad-checksum',
  'bad-option',
  'bad-value',
  'too-deep',
  'unsupported',
  'no-room',
  'duplicate',
];

/** Number of WireError codes (Ok included): arrays indexed by code have this length. */
export const WIRE_ERROR_COUNT = NAMES.length;

/** Stable, kebab-case name of an error code, as used in drop counters and traces. */
export function wireErrorName(e: WireError): string {
  return NAMES[e] ?? `wire-error-${e}`;
}
