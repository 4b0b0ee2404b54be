import { describe, expect, it } from 'vitest';
import { parseControllerFlags } from '../../../controller/flags.js';

describe('controller flags', () => {
  it('has the documented defaults', () => {
    expect(parseControllerFlags([])).toEqual({
      namespace: 'ironlb-system',
      lbClass: '',
      metricsPort: 7472,
      leaderElect: true,
      leaderLeaseDurationMs: 15000,
      leaderRenewDeadlineMs: 10000,
      leaderRetryPeriodMs: 2000,
      help: false,
    });
  });

  it('reads both --flag value and --flag=value forms', () => {
    const f = parseControllerFlags([
      '--kubeconfig',
      'kc.yaml',
      '--namespace=lb',
      '--lb-class',
      'example.com/lb',
      '--metrics-port=0',
      '--leader-elect=false',
      '--leader-lease-duration',
      '3s',
      '--leader-renew-deadline=2s',
      '--leader-retry-period',
      '500ms',
      '--identity',
      'r1',
    ]);
    expect(f).toMatchObject({
      kubeconfig: 'kc.yaml',
      namespace: 'lb',
      lbClass: 'example.com/lb',
      metricsPort: 0,
      leaderElect: false,
      leaderLeaseDurationMs: 3000,
      leaderRenewDeadlineMs: 2000,
      leaderRetryPeriodMs: 500,
      identity: 'r1',
    });
    expect(parseControllerFlags(['--leader-elect']).leaderElect).toBe(true);
  });

  it('rejects each kind of bad input with the flag named', () => {
    expect(() => parseControllerFlags(['--bogus'])).toThrow(/unknown flag "--bogus"/);
    expect(() => parseControllerFlags(['--namespace'])).toThrow(/--namespace: needs a value/);
    expect(() => parseControllerFlags(['--namespace', 'Bad_NS'])).toThrow(
      /--namespace: "Bad_NS" is not a valid namespace/,
    );
    expect(() => parseControllerFlags(['--metrics-port', '99999'])).toThrow(/--metrics-port/);
    expect(() => parseControllerFlags(['--metrics-port', '-1'])).toThrow(/--metrics-port/);
    expect(() => parseControllerFlags(['--leader-elect=yes'])).toThrow(/--leader-elect: expected true or false/);
    expect(() => parseControllerFlags(['--leader-lease-duration', '15'])).toThrow(/not a duration/);
    expect(() => parseControllerFlags(['--leader-renew-deadline', '20s'])).toThrow(
      /shorter than --leader-lease-duration/,
    );
    expect(() => parseControllerFlags(['--leader-retry-period', '10s'])).toThrow(
      /shorter than --leader-renew-deadline/,
    );
  });
});
