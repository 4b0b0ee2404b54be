import { DROP_REASONS, decodeMessage, encodeMessage, macMatches, type DropReason } from './codec.js';
import type { KeyRing } from './keyring.js';
import { ReplayGuard } from './replay.js';
import type { Message } from './types.js';

// Turns messages into authenticated datagrams and back. Every refused datagram
// is counted by reason and goes no further; nothing here throws on input.
// Checks run cheapest first, and the replay window only learns from datagrams
// whose MAC verified, so forgeries cannot move it.

export interface ChannelOptions {
  keys: KeyRing;
  /** Whether a node is a current member (from the node Leases). */
  isMember: (node: string) => boolean;
  /** Called with each refused datagram's reason (for a metric). */
  onDrop?: (reason: DropReason) => void;
}

export class AuthenticatedChannel {
  private seq = 0;
  private readonly replay = new ReplayGuard();
  readonly dropped: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
    DropReason,
    number
  >;

  constructor(private readonly options: ChannelOptions) {}

  /** Encodes and signs with the newest key, under the next sequence number. */
  seal(message: Message): Buffer {
    return encodeMessage(message, this.seq++, this.options.keys.signing());
  }

  /** The message, or undefined when the datagram is refused (and counted). */
  open(datagram: Buffer): Message | undefined {
    const decoded = decodeMessage(datagram);
    if (!decoded.ok) return this.drop(decoded.reason);
    const { message, seq } = decoded;
    const key = this.options.keys.find(decoded.keyId);
    if (key === undefined) return this.drop('unknown-key');
    if (!this.options.isMember(message.sender)) return this.drop('unknown-sender');
    if (!macMatches(key.secret, decoded)) return this.drop('bad-mac');
    if (!this.replay.isFresh(message.sender, message.incarnation, seq)) return this.drop('replayed');
    this.replay.record(message.sender, message.incarnation, seq);
    return message;
  }

  /** Forgets replay state of departed members. */
  prune(): void {
    this.replay.retain(this.options.isMember);
  }

  private drop(reason: DropReason): undefined {
    this.dropped[reason]++;
    this.options.onDrop?.(reason);
    return undefined;
  }
}
