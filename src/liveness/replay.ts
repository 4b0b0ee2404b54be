// Replay protection per sender: a datagram is accepted once, only if its
// (incarnation, sequence) is new. A higher incarnation (the sender restarted
// or refuted) starts a fresh window; a lower one is stale. Within an
// incarnation a sliding window of the last WINDOW sequence numbers tolerates
// reordering (as IPsec's anti-replay window, RFC 4303 §3.4.3).

export const REPLAY_WINDOW = 64;
const FULL = (1n << BigInt(REPLAY_WINDOW)) - 1n;

interface SenderWindow {
  incarnation: number;
  top: number;
  /** Bit i set: sequence top - i was seen. */
  seen: bigint;
}

export class ReplayGuard {
  private readonly senders = new Map<string, SenderWindow>();

  /** Whether (incarnation, seq) from this sender is new; does not record it. */
  isFresh(sender: string, incarnation: number, seq: number): boolean {
    const w = this.senders.get(sender);
    if (w === undefined || incarnation > w.incarnation) return true;
    if (incarnation < w.incarnation) return false;
    if (seq > w.top) return true;
    const age = w.top - seq;
    return age < REPLAY_WINDOW && (w.seen & (1n << BigInt(age))) === 0n;
  }

  /** Records an accepted datagram (call only after its MAC was verified). */
  record(sender: string, incarnation: number, seq: number): void {
    const w = this.senders.get(sender);
    if (w === undefined || incarnation > w.incarnation) {
      this.senders.set(sender, { incarnation, top: seq, seen: 1n });
      return;
    }
    if (seq > w.top) {
      const shift = seq - w.top;
      w.seen = shift >= REPLAY_WINDOW ? 1n : ((w.seen << BigInt(shift)) | 1n) & FULL;
      w.top = seq;
    } else {
      w.seen |= 1n << BigInt(w.top - seq);
    }
  }

  /** Forgets senders that are no longer members. */
  retain(isMember: (node: string) => boolean): void {
    for (const sender of this.senders.keys()) if (!isMember(sender)) this.senders.delete(sender);
  }
}
