/**
 * Capture files in and out: streaming pcap/pcapng readers that fill PacketBatches, and buffered
 * writers that drain them. See README.md in this directory.
 */
export { type ByteSink, FileSink, MemorySink } from './byte-sink.js';
export { CaptureBufferReader, parseCaptureBuffer } from './capture-buffer-reader.js';
export { type CaptureErrorCode, CaptureFormatError } from './capture-error.js';
export {
  CaptureFileReader,
  type CaptureReadOptions,
  DEFAULT_CHUNK_BYTES,
  MIN_CHUNK_BYTES,
  openCaptureFile,
} from './capture-file-reader.js';
export { CaptureWriter } from './capture-writer.js';
export {
  type CaptureFormat,
  type CaptureInterface,
  type CapturePacket,
  classifyLinkType,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_RAW,
  type LinkInfo,
  type LinkKind,
  linkTypeName,
  MAX_CAPTURE_BYTES,
} from './format.js';
export { type PcapWriteOptions, PcapWriter } from './pcap-writer.js';
export { MAX_PARSED_BLOCK_BYTES } from './pcapng-parser.js';
export { type PcapngInterfaceSpec, type PcapngWriteOptions, PcapngWriter } from './pcapng-writer.js';
