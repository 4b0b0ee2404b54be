// Direct liveness between speakers: see docs/liveness.md.
export { AuthenticatedChannel, type ChannelOptions } from './channel.js';
export { DROP_REASONS, MAX_DATAGRAM_BYTES, type DropReason } from './codec.js';
export { FailureDetector, type FailureDetectorOptions, type LivenessCounters, type LivenessEvent } from './detector.js';
export { KeyRing, MIN_KEY_BYTES } from './keyring.js';
export type { LivenessTransport, Message, NodeRecord, Peer, Verdict } from './types.js';
export {
  DEFAULT_LIVENESS_PORT,
  METALLB_MEMBERLIST_PORT,
  PortInUseError,
  UdpTransport,
  type UdpTransportOptions,
} from './udp.js';
