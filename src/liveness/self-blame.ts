// Self-blame: "is it me?". A node that has heard no heartbeat from anyone for
// the detection time, and no answer to its probes either, is isolated: the
// fault is on its side, so it accuses no one. Probes go out once the silence
// passes half the detection time, so answers are in before it would matter.

export class SelfBlame {
  private lastHeartbeatAt = 0;
  private lastAckAt = Number.NEGATIVE_INFINITY;
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  private nonce = 0;
  isolated = false;

  constructor(
    private readonly detectMs: number,
    private readonly intervalMs: number,
  ) {}

  started(now: number): void {
    this.lastHeartbeatAt = now;
  }

  heartbeat(now: number): void {
    this.lastHeartbeatAt = now;
  }

  ack(now: number): void {
    this.lastAckAt = now;
  }

  /** A probe nonce when probes are due now (at most every 2 intervals), else undefined. */
  probeDue(now: number, resumedAt: number, expecting: boolean): number | undefined {
    if (!expecting || this.silence(now, resumedAt) <= this.detectMs / 2 || now - this.lastProbeAt < 2 * this.intervalMs)
      return undefined;
    this.lastProbeAt = now;
    return ++this.nonce;
  }

  /** Recomputes `isolated`; true when it changed. */
  update(now: number, resumedAt: number, expecting: boolean): boolean {
    const isolated = expecting && this.silence(now, resumedAt) > this.detectMs && now - this.lastAckAt > this.detectMs;
    if (isolated === this.isolated) return false;
    this.isolated = isolated;
    return true;
  }

  msSinceHeartbeat(now: number): number {
    return now - this.lastHeartbeatAt;
  }

  msSinceAck(now: number): number {
    return now - this.lastAckAt;
  }

  private silence(now: number, resumedAt: number): number {
    return now - Math.max(this.lastHeartbeatAt, resumedAt);
  }
}
