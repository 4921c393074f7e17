/**
 * Numbers that identify capture files, their blocks and options, and the link types ferry replays.
 *
 * Classic pcap: draft-ietf-opsawg-pcap §4 (File Header) and §5 (Packet Record).
 * pcapng: draft-ietf-opsawg-pcapng §3 (General Block Structure, Options) and §4 (Block Definition).
 * Link types: the tcpdump.org LINKTYPE_ registry (draft-ietf-opsawg-pcaplinktype).
 */

/** Classic pcap magic, seconds + microseconds, as read in the writer's byte order. */
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
/** Classic pcap magic, seconds + nanoseconds. */
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** Alexey Kuznetzov's "modified pcap" (longer records): recognised only to refuse it by name. */
export const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_FILE_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** pcapng block types (draft-ietf-opsawg-pcapng §3.2 / §4). */
export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
/** Obsolete Packet Block (pcapng appendix A): still written by old tools, read like an EPB. */
export const BLOCK_OPB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_NRB = 0x00000004;
export const BLOCK_ISB = 0x00000005;
export const BLOCK_EPB = 0x00000006;
export const BLOCK_DSB = 0x0000000a;
export const BLOCK_CUSTOM_COPY = 0x00000bad;
export const BLOCK_CUSTOM_NOCOPY = 0x40000bad;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_VERSION_MAJOR = 1;

/** Smallest block: type, total length, trailing total length (§3.1). */
export const BLOCK_MIN_BYTES = 12;
/** SHB fixed part: type, length, byte-order magic, versions, 64-bit section length, trailer. */
export const SHB_MIN_BYTES = 28;
/** IDB fixed part: type, length, link type, reserved, snaplen, trailer. */
export const IDB_MIN_BYTES = 20;
/** EPB fixed part: type, length, interface id, timestamp (2 × 32 bits), two lengths, trailer. */
export const EPB_MIN_BYTES = 32;
/** OPB fixed part: as EPB with a 16-bit interface id and a 16-bit drops count. */
export const OPB_MIN_BYTES = 32;
/** SPB fixed part: type, length, original length, trailer. */
export const SPB_MIN_BYTES = 16;

/** Option codes (§3.5 common, §4.1 SHB, §4.2 IDB). */
export const OPT_ENDOFOPT = 0;
export const OPT_SHB_USERAPPL = 4;
export const OPT_IF_NAME = 2;
export const OPT_IF_TSRESOL = 9;
export const OPT_IF_TSOFFSET = 14;

/**
 * Largest captured length ferry accepts in a record: libpcap's MAXIMUM_SNAPLEN. A bigger value
 * in a record header means a corrupt file, not a jumbo packet.
 */
export const MAX_CAPTURE_BYTES = 262144;

/** Link types (LINKTYPE_ registry) ferry can forward. */
export const LINKTYPE_ETHERNET = 1;
/** Raw IP: the packet starts with an IPv4 or an IPv6 header (version nibble tells which). */
export const LINKTYPE_RAW = 101;
/** Raw IPv4 only. */
export const LINKTYPE_IPV4 = 228;
/** Raw IPv6 only. */
export const LINKTYPE_IPV6 = 229;

export type CaptureFormat = 'pcap' | 'pcapng';

/** How ferry sees a link type: Ethernet frames, raw IP packets, or something it cannot forward. */
export type LinkKind = 'ethernet' | 'raw-ip' | 'unsupported';

export interface LinkInfo {
  kind: LinkKind;
  /** For raw IP: 4 or 6 when the link type fixes the family, 0 when the version nibble decides. */
  ipFamily: 0 | 4 | 6;
}

/** Classifies a link type number; `unsupported` ones keep their number for the caller's message. */
export function classifyLinkType(linkType: number): LinkInfo {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return { kind: 'ethernet', ipFamily: 0 };
    case LINKTYPE_RAW:
      return { kind: 'raw-ip', ipFamily: 0 };
    case LINKTYPE_IPV4:
      return { kind: 'raw-ip', ipFamily: 4 };
    case LINKTYPE_IPV6:
      return { kind: 'raw-ip', ipFamily: 6 };
    default:
      return { kind: 'unsupported', ipFamily: 0 };
  }
}

const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'],
  [1, 'ETHERNET'],
  [9, 'PPP'],
  [101, 'RAW'],
  [105, 'IEEE802_11'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [127, 'IEEE802_11_RADIOTAP'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [276, 'LINUX_SLL2'],
]);

/** "LINKTYPE_LINUX_SLL (113)" for well-known types, "link type 4242" otherwise; for messages. */
export function linkTypeName(linkType: number): string {
  const name = LINKTYPE_NAMES.get(linkType);
  return name === undefined ? `link type ${linkType}` : `LINKTYPE_${name} (${linkType})`;
}

/** One capture interface: the single implicit one of a pcap file, or a pcapng IDB. */
export interface CaptureInterface {
  /** Interface id within its pcapng section (0 for pcap): the `port` of its packets. */
  index: number;
  /** pcapng `if_name`, when present. */
  name: string | undefined;
  linkType: number;
  link: LinkInfo;
  /** Snapshot length; 0 in pcapng means "no limit". */
  snaplen: number;
  /** Timestamp units per second as written in the file: 1e6, 1e9, 2 ** n, … */
  tsUnitsPerSecond: number;
  /** Raw `if_tsresol` byte (6 for pcap µs, 9 for pcap ns): bit 7 set → 2^-n, clear → 10^-n. */
  tsresol: number;
  /** `if_tsoffset` in seconds, added to every timestamp of the interface (0 when absent). */
  tsOffsetSeconds: number;
  /** pcap only: FCS bytes appended to each packet (file header "f" bit), else 0. */
  fcsBytes: number;
}

/** A packet with its own bytes: what the convenience iterators yield (allocates; not for hot paths). */
export interface CapturePacket {
  data: Uint8Array;
  tsSec: number;
  tsNsec: number;
  wireLength: number;
  /** Interface id: pcapng interface within its section, 0 for pcap. */
  iface: number;
}
