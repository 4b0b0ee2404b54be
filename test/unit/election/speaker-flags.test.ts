import { describe, expect, it } from 'vitest';
import { parseSpeakerFlags } from '../../../speaker/flags.js';

const env = { NODE_NAME: 'node-a', HOST_IP: '192.0.2.11' };

describe('parseSpeakerFlags', () => {
  it('has the documented defaults, node name from NODE_NAME', () => {
    expect(parseSpeakerFlags([], env)).toEqual({
      nodeName: 'node-a',
      namespace: 'ironlb-system',
      metricsPort: 7472,
      heartbeatIntervalMs: 10_000,
      leaseDurationMs: 40_000,
      staggerMs: 150,
      garpRounds: 3,
      garpRefreshMs: 0,
      livenessPort: 7947,
      livenessAddress: '192.0.2.11',
      livenessIntervalMs: 100,
      livenessDetectMultiplier: 4,
      bgpPollIntervalMs: 5000,
      help: false,
    });
  });

  it('BGP mode: --frr-vty-socket takes an absolute folder, --bgp-poll-interval a duration', () => {
    expect(parseSpeakerFlags(['--frr-vty-socket', '/var/run/frr', '--bgp-poll-interval=2s'], env)).toMatchObject({
      frrVtySocket: '/var/run/frr',
      bgpPollIntervalMs: 2000,
    });
    expect(() => parseSpeakerFlags(['--frr-vty-socket', 'run/frr'], env)).toThrow(
      '--frr-vty-socket: expected an absolute folder path, got "run/frr"',
    );
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const flags = parseSpeakerFlags(
      [
        '--node-name=worker-2',
        '--kubeconfig',
        'kc',
        '--namespace=lb',
        '--lb-class',
        'example.com/lb',
        '--interfaces=eth0, eth1',
        '--metrics-port=0',
        '--heartbeat-interval=500ms',
        '--lease-duration',
        '2s',
        '--stagger=0',
        '--garp-rounds=5',
        '--garp-refresh=30s',
        '--log-level=debug',
        '--liveness-port=7950',
        '--liveness-address',
        '2001:db8::11',
        '--liveness-interval=50ms',
        '--liveness-detect-multiplier',
        '6',
      ],
      {},
    );
    expect(flags).toMatchObject({
      nodeName: 'worker-2',
      kubeconfig: 'kc',
      namespace: 'lb',
      lbClass: 'example.com/lb',
      interfaces: ['eth0', 'eth1'],
      metricsPort: 0,
      heartbeatIntervalMs: 500,
      leaseDurationMs: 2000,
      staggerMs: 0,
      garpRounds: 5,
      garpRefreshMs: 30_000,
      logLevel: 'debug',
      livenessPort: 7950,
      livenessAddress: '2001:db8::11',
      livenessIntervalMs: 50,
      livenessDetectMultiplier: 6,
    });
  });

  it('accepts what the DaemonSet passes', () => {
    expect(
      parseSpeakerFlags(['--node-name=node-a', '--namespace=ironlb-system', '--metrics-port=7472'], {
        HOST_IP: '192.0.2.11',
      }).nodeName,
    ).toBe('node-a');
  });

  it('rejects each kind of bad input with the flag named', () => {
    expect(() => parseSpeakerFlags([], {})).toThrow(/--node-name: required/);
    expect(() => parseSpeakerFlags(['--node-name=Bad_Name'], {})).toThrow(
      /--node-name: "Bad_Name" is not a valid node name/,
    );
    expect(() => parseSpeakerFlags(['--bogus'], env)).toThrow(/unknown flag "--bogus"/);
    expect(() => parseSpeakerFlags(['--namespace'], env)).toThrow(/--namespace: needs a value/);
    expect(() => parseSpeakerFlags(['--namespace=Bad'], env)).toThrow(/not a valid namespace/);
    expect(() => parseSpeakerFlags(['--metrics-port=70000'], env)).toThrow(/--metrics-port: expected a port/);
    expect(() => parseSpeakerFlags(['--heartbeat-interval=1'], env)).toThrow(
      /--heartbeat-interval: "1" is not a duration/,
    );
    expect(() => parseSpeakerFlags(['--heartbeat-interval=0'], env)).toThrow(/--heartbeat-interval/);
    expect(() => parseSpeakerFlags(['--lease-duration=1s'], env)).toThrow(/must be longer than --heartbeat-interval/);
    expect(() => parseSpeakerFlags(['--garp-rounds=0'], env)).toThrow(/--garp-rounds: expected a whole number/);
    expect(() => parseSpeakerFlags(['--interfaces=eth0,a/b'], env)).toThrow(
      /--interfaces: "a\/b" is not an interface name/,
    );
    expect(() => parseSpeakerFlags(['--node-name=node-a'], {})).toThrow(/--liveness-address: required/);
    expect(parseSpeakerFlags(['--node-name=node-a', '--liveness-port=0'], {}).livenessPort).toBe(0);
    expect(() => parseSpeakerFlags(['--node-name=node-a'], { HOST_IP: 'node-a.example' })).toThrow(
      /--liveness-address: "node-a.example" \(from HOST_IP\) is not an IP/,
    );
    expect(() => parseSpeakerFlags(['--liveness-address=300.1.1.1'], env)).toThrow(
      /--liveness-address: "300.1.1.1" is not an IP address/,
    );
    expect(() => parseSpeakerFlags(['--liveness-port=70000'], env)).toThrow(/--liveness-port: expected a port/);
    expect(() => parseSpeakerFlags(['--liveness-interval=5ms'], env)).toThrow(/--liveness-interval: at least 10ms/);
    expect(() => parseSpeakerFlags(['--liveness-detect-multiplier=1'], env)).toThrow(
      /--liveness-detect-multiplier: expected a whole number/,
    );
  });

  it('--help needs no node name', () => {
    expect(parseSpeakerFlags(['--help'], {}).help).toBe(true);
  });
});
