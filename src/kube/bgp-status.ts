// Publishes a node's BGP status (src/bgp/status.ts) as an annotation on a
// Lease of its own, `ironlb-bgp-<node>`: one object per node that
// `kubectl get lease -n ironlb-system ironlb-bgp-<node> -o yaml` and
// `kubectl ironlb nodes` read. Not the member Lease: the election rewrites that
// one's annotations whole, and every speaker watches it. Writes are
// compare-and-swap, one at a time, the latest status winning.
import type { Logger } from '../log/logger.js';
import { BGP_STATUS_ANNOTATION, bgpStatusLeaseName, type BgpNodeStatus } from '../bgp/status.js';
import type { LeaseClient } from './leases.js';

export class BgpStatusPublisher {
  private pending: string | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly leases: LeaseClient,
    private readonly node: string,
    private readonly logger: Logger,
  ) {}

  publish(status: BgpNodeStatus): void {
    this.pending = JSON.stringify(status);
    if (!this.writing) this.writing = this.drain().finally(() => (this.writing = undefined));
  }

  /** Resolves once the latest status is written (or failed). */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const json = this.pending;
      this.pending = undefined;
      try {
        await this.write(json);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.logger.warn({ err: message }, 'writing the BGP status Lease failed');
      }
    }
  }

  private async write(json: string): Promise<void> {
    const name = bgpStatusLeaseName(this.node);
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = await this.leases.get(name);
      const fields = { holderIdentity: this.node, renewTime: new Date() };
      const result =
        lease === undefined
          ? await this.leases.create(name, fields, { annotations: { [BGP_STATUS_ANNOTATION]: json } })
          : await this.leases.update({
              ...lease,
              metadata: {
                ...lease.metadata,
                annotations: { ...lease.metadata?.annotations, [BGP_STATUS_ANNOTATION]: json },
              },
              spec: { ...lease.spec, holderIdentity: this.node, renewTime: new Date() },
            });
      if (result.ok) return;
    }
    throw new Error(`lease ${name}: three write conflicts in a row`);
  }
}
