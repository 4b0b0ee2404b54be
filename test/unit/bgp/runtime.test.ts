// The BGP runtime's decisions on a virtual clock, with an FrrControl whose every
// call is a promise the test settles: when it applies, how it backs off, what
// it reports, and that a reading raced by an apply does not trigger another.
import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../../src/clock/virtual.js';
import { FrrError, type FrrControl } from '../../../src/bgp/frr-daemon.js';
import type { BfdPeerState, BgpSessionState } from '../../../src/bgp/frr-state.js';
import type { BgpNodeInputs } from '../../../src/bgp/plan.js';
import { BgpRuntime } from '../../../src/bgp/runtime.js';
import { createSpeakerMetrics } from '../../../src/metrics/metrics.js';
import { silentLogger } from '../../../src/log/logger.js';
import { oneRouter, peer } from './fixtures.js';

interface Call<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

/** Every call waits until the test answers it. */
class HeldFrr implements FrrControl {
  readonly applies: Array<Call<void> & { config: string }> = [];
  readonly reads: Array<Call<Map<string, BgpSessionState>>> = [];
  apply(config: string): Promise<void> {
    return new Promise((resolve, reject) => this.applies.push({ resolve, reject, config }));
  }
  async runningConfig(): Promise<string> {
    return '';
  }
  sessions(): Promise<Map<string, BgpSessionState>> {
    return new Promise((resolve, reject) => this.reads.push({ resolve, reject }));
  }
  async bfdPeers(): Promise<BfdPeerState[]> {
    return [];
  }
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function inputs(ips: string[], extra: Partial<BgpNodeInputs> = {}): BgpNodeInputs {
  return { ...oneRouter('node-a', ips, { peerAddress: '192.0.2.254' }), ...extra };
}

const established = (prefixes: number) =>
  new Map([
    [
      '192.0.2.254',
      {
        address: '192.0.2.254',
        peer: 'tor',
        state: 'Established',
        established: true,
        prefixesSent: prefixes,
        prefixesReceived: 0,
        connectionsEstablished: 1,
        connectionsDropped: 0,
      },
    ],
  ]);

function setUp() {
  const clock = new VirtualScheduler();
  const frr = new HeldFrr();
  const metrics = createSpeakerMetrics();
  const events: string[] = [];
  const runtime = new BgpRuntime({
    node: 'node-a',
    frr,
    scheduler: clock,
    logger: silentLogger(),
    pollIntervalMs: 5000,
    retryInitialMs: 1000,
    retryMaxMs: 4000,
    metrics: metrics.bgp,
    events: {
      object: (kind, name, type, reason) => events.push(`${type} ${reason} ${kind}/${name}`),
      node: (type, reason) => events.push(`${type} ${reason} Node`),
    },
  });
  return { clock, frr, metrics, events, runtime };
}

describe('BgpRuntime', () => {
  it('applies once per change of text, one apply at a time, the latest text last', async () => {
    const { frr, runtime } = setUp();
    runtime.setInputs(inputs(['203.0.113.1']));
    runtime.setInputs(inputs(['203.0.113.1'])); // same text: nothing more
    expect(frr.applies).toHaveLength(1);
    runtime.setInputs(inputs(['203.0.113.1', '203.0.113.2']));
    runtime.setInputs(inputs(['203.0.113.1', '203.0.113.2', '203.0.113.3']));
    expect(frr.applies).toHaveLength(1); // the first is still running
    frr.applies[0]!.resolve();
    await flush();
    expect(frr.applies).toHaveLength(2);
    expect(frr.applies[1]!.config).toContain('203.0.113.3/32');
    frr.applies[1]!.resolve();
    await flush();
    expect(frr.applies).toHaveLength(2);
    expect(runtime.status().frr).toBe('applied');
  });

  it('a refused apply: Warning once per attempt, metric 0, retried after 1, 2, 4, 4 s', async () => {
    const { clock, frr, metrics, events, runtime } = setUp();
    runtime.setInputs(inputs(['203.0.113.1']));
    const due: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      frr.applies.at(-1)!.reject(new FrrError('bgpd is not running'));
      await flush();
      const count = frr.applies.length;
      const start = clock.now();
      while (frr.applies.length === count) {
        clock.advance(250);
        await flush();
      }
      due.push(clock.now() - start);
    }
    expect(due).toEqual([1000, 2000, 4000, 4000]);
    expect(runtime.status()).toMatchObject({ frr: 'failed', frrError: 'bgpd is not running' });
    expect((await metrics.bgp.configApplied.get()).values[0]?.value).toBe(0);
    expect((await metrics.bgp.applyFailures.get()).values[0]?.value).toBe(4);
    expect(events).toEqual(Array(4).fill('Warning FRRConfigurationFailed Node'));
    frr.applies.at(-1)!.resolve();
    await flush();
    expect(runtime.status().frr).toBe('applied');
    expect(events.at(-1)).toBe('Normal FRRConfigurationApplied Node');
  });

  it('FRR restarted empty gets the configuration again; a reading raced by an apply does not', async () => {
    const { clock, frr, runtime } = setUp();
    runtime.setInputs(inputs(['203.0.113.1']));
    runtime.start();
    await flush();
    clock.advance(0);
    await flush();
    // The first reading started before the apply finished: it shows an empty FRR.
    frr.applies[0]!.resolve();
    await flush();
    frr.reads[0]!.resolve(new Map());
    await flush();
    expect(frr.applies).toHaveLength(1);
    // A later reading showing an empty FRR: applied again.
    clock.advance(5000);
    await flush();
    frr.reads[1]!.resolve(new Map());
    await flush();
    expect(frr.applies).toHaveLength(2);
    frr.applies[1]!.resolve();
    await flush();
    clock.advance(5000);
    await flush();
    frr.reads[2]!.resolve(established(1));
    await flush();
    expect(frr.applies).toHaveLength(2);
    expect(runtime.status().peers).toEqual([
      {
        name: 'tor',
        address: '192.0.2.254',
        state: 'Established',
        established: true,
        prefixesSent: 1,
        prefixesPlanned: 1,
      },
    ]);
  });

  it('session up and down become Events on the BGPPeer; config errors one Event each until they change', async () => {
    const { clock, frr, events, runtime } = setUp();
    const bad = peer('nobfd', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.253', bfdProfile: 'missing' });
    runtime.setInputs(
      inputs(['203.0.113.1'], {
        peers: [peer('tor', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }), bad],
      }),
    );
    runtime.setInputs(
      inputs(['203.0.113.2'], {
        peers: [peer('tor', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254' }), bad],
      }),
    );
    expect(events).toEqual(['Warning InvalidBGPConfiguration BGPPeer/nobfd']);
    frr.applies[0]!.resolve();
    await flush();
    frr.applies[1]!.resolve();
    runtime.start();
    clock.advance(0);
    await flush();
    frr.reads[0]!.resolve(established(1));
    await flush();
    clock.advance(5000);
    await flush();
    frr.reads[1]!.resolve(
      new Map([
        [
          '192.0.2.254',
          {
            ...established(0).get('192.0.2.254')!,
            state: 'Active',
            established: false,
            lastError: 'Hold Timer Expired',
          },
        ],
      ]),
    );
    await flush();
    expect(events).toEqual([
      'Warning InvalidBGPConfiguration BGPPeer/nobfd',
      'Normal BGPSessionUp BGPPeer/tor',
      'Warning BGPSessionDown BGPPeer/tor',
    ]);
  });

  it('withdraw: the same peer, no prefix; resolves once FRR has it', async () => {
    const { frr, runtime } = setUp();
    runtime.setInputs(inputs(['203.0.113.1']));
    frr.applies[0]!.resolve();
    await flush();
    const done = runtime.withdraw();
    await flush();
    expect(frr.applies[1]!.config).toContain('neighbor 192.0.2.254 remote-as 64513');
    expect(frr.applies[1]!.config).not.toContain('203.0.113.1');
    frr.applies[1]!.resolve();
    expect(await done).toBe(true);
    expect(runtime.status().withdrawn).toBe(true);
  });
});
