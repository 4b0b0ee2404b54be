import type { ApiStanding } from './boundaries.js';

// This speaker's standing with the API server, from the results of its
// heartbeat renewals (docs/liveness.md, "Cut off from the API server"). Pure:
// the caller passes the time.

export class ApiContact {
  private lastOkAt: number | undefined;
  /** Start of the current run of contact: the first success after a cut-off (or ever). */
  private contactSince: number | undefined;
  private failing = false;

  /** `startedAt`: a speaker that never reached the API counts as cut off a lease-duration after its start. */
  constructor(
    private readonly leaseDurationMs: number,
    private readonly startedAt: number,
  ) {}

  /** A renewal attempt ended at `now`. */
  result(ok: boolean, now: number): void {
    this.failing = !ok;
    if (!ok) return;
    if (this.lastOkAt === undefined || now - this.lastOkAt >= this.leaseDurationMs) this.contactSince = now;
    this.lastOkAt = now;
  }

  /** The last renewal succeeded (and one ever did). */
  get renewing(): boolean {
    return !this.failing && this.lastOkAt !== undefined;
  }

  /** The last renewal failed. */
  get failingNow(): boolean {
    return this.failing;
  }

  standing(now: number): ApiStanding {
    const cutOff = now - (this.lastOkAt ?? this.startedAt) >= this.leaseDurationMs;
    const steady =
      !cutOff && !this.failing && this.contactSince !== undefined && now - this.contactSince >= this.leaseDurationMs;
    return { cutOff, steady };
  }
}
