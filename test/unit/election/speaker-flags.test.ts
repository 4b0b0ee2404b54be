import { describe, expect, it } from 'vitest';
import { parseSpeakerFlags } from '../../../speaker/flags.js';

const env = { NODE_NAME: 'node-a' };

describe('parseSpeakerFlags', () => {
  it('has the documented defaults, node name from NODE_NAME', () => {
    expect(parseSpeakerFlags([], env)).toEqual({
      nodeName: 'node-a',
      namespace: 'ironlb-system',
      metricsPort: 7472,
      heartbeatIntervalMs: 1000,
      leaseDurationMs: 3000,
      staggerMs: 150,
      garpRounds: 3,
      garpRefreshMs: 0,
      help: false,
    });
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const flags = parseSpeakerFlags(
      ['--node-name=worker-2', '--kubeconfig', 'kc', '--namespace=lb', '--lb-class', 'example.com/lb', '--interfaces=eth0, eth1',
        '--metrics-port=0', '--heartbeat-interval=500ms', '--lease-duration', '2s', '--stagger=0', '--garp-rounds=5', '--garp-refresh=30s', '--log-level=debug'],
      {},
    );
    expect(flags).toMatchObject({
      nodeName: 'worker-2', kubeconfig: 'kc', namespace: 'lb', lbClass: 'example.com/lb', interfaces: ['eth0', 'eth1'], metricsPort: 0,
      heartbeatIntervalMs: 500, leaseDurationMs: 2000, staggerMs: 0, garpRounds: 5, garpRefreshMs: 30_000, logLevel: 'debug',
    });
  });

  it('accepts what the DaemonSet passes', () => {
    expect(parseSpeakerFlags(['--node-name=node-a', '--namespace=ironlb-system', '--metrics-port=7472'], {}).nodeName).toBe('node-a');
  });

  it('rejects each kind of bad input with the flag named', () => {
    expect(() => parseSpeakerFlags([], {})).toThrow(/--node-name: required/);
    expect(() => parseSpeakerFlags(['--node-name=Bad_Name'], {})).toThrow(/--node-name: "Bad_Name" is not a valid node name/);
    expect(() => parseSpeakerFlags(['--bogus'], env)).toThrow(/unknown flag "--bogus"/);
    expect(() => parseSpeakerFlags(['--namespace'], env)).toThrow(/--namespace: needs a value/);
    expect(() => parseSpeakerFlags(['--namespace=Bad'], env)).toThrow(/not a valid namespace/);
    expect(() => parseSpeakerFlags(['--metrics-port=70000'], env)).toThrow(/--metrics-port: expected a port/);
    expect(() => parseSpeakerFlags(['--heartbeat-interval=1'], env)).toThrow(/--heartbeat-interval: "1" is not a duration/);
    expect(() => parseSpeakerFlags(['--heartbeat-interval=0'], env)).toThrow(/--heartbeat-interval/);
    expect(() => parseSpeakerFlags(['--lease-duration=1s'], env)).toThrow(/must be longer than --heartbeat-interval/);
    expect(() => parseSpeakerFlags(['--garp-rounds=0'], env)).toThrow(/--garp-rounds: expected a whole number/);
    expect(() => parseSpeakerFlags(['--interfaces=eth0,a/b'], env)).toThrow(/--interfaces: "a\/b" is not an interface name/);
  });

  it('--help needs no node name', () => {
    expect(parseSpeakerFlags(['--help'], {}).help).toBe(true);
  });
});
