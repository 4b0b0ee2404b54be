// FRR's JSON as FRR 8.4.4 printed it in the lab (test/e2e/frr-daemon.test.ts
// captures the same commands): one Established eBGP peer with BFD and two
// prefixes sent, an IPv4 and an IPv6 peer that never came up.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrrOutputError, parseBfdPeers, parseBgpNeighbors } from '../../../src/bgp/frr-state.js';

const fixture = (name: string) => readFileSync(new URL(`./frr-json/${name}`, import.meta.url), 'utf8');

describe('show bgp neighbors json (FRR 8.4)', () => {
  const sessions = parseBgpNeighbors(fixture('bgp-neighbors.json'));

  it('gives every neighbor by address with its state, peer name and prefixes sent', () => {
    expect([...sessions.keys()].sort()).toEqual(['192.0.2.250', '192.0.2.254', '2001:db8::fa']);
    expect(sessions.get('192.0.2.254')).toEqual({
      address: '192.0.2.254',
      peer: 'tor',
      state: 'Established',
      established: true,
      prefixesSent: 2,
      prefixesReceived: 0,
      lastError: 'BGP Notification received (Cease/Unspecific)',
      connectionsEstablished: 2,
      connectionsDropped: 1,
    });
  });

  it('a neighbor that never came up: its state and why, nothing sent', () => {
    expect(sessions.get('192.0.2.250')).toMatchObject({
      peer: 'nobody',
      state: 'Connect',
      established: false,
      prefixesSent: 0,
      lastError: 'Waiting for peer OPEN',
    });
    expect(sessions.get('2001:db8::fa')).toMatchObject({ peer: 'nobody6', state: 'Connect', established: false });
  });

  it('no router bgp: {} is no neighbors', () => {
    expect(parseBgpNeighbors('{\n}\n').size).toBe(0);
  });

  it('refuses what FRR does not print, naming the command', () => {
    expect(() => parseBgpNeighbors('% Unknown command')).toThrow(FrrOutputError);
    expect(() => parseBgpNeighbors('% Unknown command')).toThrow(/show bgp neighbors json: not JSON/);
    expect(() => parseBgpNeighbors('[]')).toThrow(/expected an object/);
    expect(() => parseBgpNeighbors('{"192.0.2.1":{"remoteAs":1}}')).toThrow(/192.0.2.1 has no bgpState/);
  });
});

describe('show bfd peers json (FRR 8.4)', () => {
  it('gives each peer and its status', () => {
    expect(parseBfdPeers(fixture('bfd-peers.json'))).toEqual([
      { peer: '192.0.2.254', local: '192.0.2.11', status: 'up' },
    ]);
  });

  it('keeps the diagnostic of a session that went down', () => {
    const down = JSON.stringify([
      { peer: '192.0.2.254', status: 'down', diagnostic: 'control detection time expired' },
    ]);
    expect(parseBfdPeers(down)).toEqual([
      { peer: '192.0.2.254', status: 'down', diagnostic: 'control detection time expired' },
    ]);
  });

  it('refuses output that is not a list of peers', () => {
    expect(() => parseBfdPeers('{}')).toThrow(/show bfd peers json: expected an array/);
    expect(() => parseBfdPeers('[{"peer":"192.0.2.1"}]')).toThrow(/without "peer" or "status"/);
  });
});
