// Small one-shot checks of the packet socket, run inside a lab namespace by
// test/e2e/l2-socket.test.ts. Prints one JSON line; the process exit itself is
// part of what is checked (a closed or unref'd socket must not hold the loop).
//
//   node socket-check.js open <ifname>       -> {"ok":true,...} or {"ok":false,"message"}
//   node socket-check.js close-exits <ifname>
//   node socket-check.js unref-exits <ifname>
//   node socket-check.js send-closed <ifname>
//   node socket-check.js bad-input <ifname>
//   node socket-check.js interfaces <ip>      -> listInterfaces() and chooseInterfaces(ip)
//   node socket-check.js groups <ifname>      -> memberships after join, join, leave, leave
import { readFileSync } from 'node:fs';
import { openPacketSocket } from '../../src/l2/socket.js';
import { chooseInterfaces, listInterfaces } from '../../src/l2/interfaces.js';

const [mode, ifname = 'eth0'] = process.argv.slice(2);
const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function attempt(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return message(err);
  }
}

switch (mode) {
  case 'open':
    try {
      const socket = openPacketSocket(ifname);
      print({ ok: true, ifindex: socket.ifindex, mac: socket.mac.toString('hex') });
      socket.close();
    } catch (err) {
      print({ ok: false, message: message(err), code: (err as { code?: string }).code });
    }
    break;
  case 'close-exits': {
    const socket = openPacketSocket(ifname);
    socket.onFrame(() => undefined);
    socket.close();
    print({ ok: true });
    break; // nothing else holds the loop: the process must exit by itself
  }
  case 'unref-exits': {
    const socket = openPacketSocket(ifname, { unref: true });
    socket.onFrame(() => undefined);
    print({ ok: true });
    break;
  }
  case 'send-closed': {
    const socket = openPacketSocket(ifname);
    socket.close();
    print({
      ok: true,
      error: attempt(() => socket.send(Buffer.alloc(60))),
      joinError: attempt(() => socket.joinMulticast(Buffer.alloc(16, 0xff))),
    });
    break;
  }
  case 'bad-input': {
    const socket = openPacketSocket(ifname);
    print({
      ok: true,
      runt: attempt(() => socket.send(Buffer.alloc(10))),
      notBuffer: attempt(() => socket.send('frame' as unknown as Buffer)),
      shortGroup: attempt(() => socket.joinMulticast(Buffer.alloc(4))),
      unicastGroup: attempt(() => socket.joinMulticast(Buffer.from('20010db8000000000000000000000001', 'hex'))),
      leaveUnjoined: attempt(() => socket.leaveMulticast(Buffer.from('ff0200000000000000000001ff000001', 'hex'))),
      badName: attempt(() => openPacketSocket('')),
    });
    socket.close();
    break;
  }
  case 'interfaces': {
    const all = listInterfaces();
    print({ ok: true, interfaces: all, chosen: chooseInterfaces(ifname, all).map((i) => i.name) });
    break;
  }
  case 'groups': {
    // What the kernel holds for the interface: link-level multicast MACs
    // (/proc/net/dev_mcast) and IPv6 groups (/proc/net/igmp6), this namespace's.
    const group = Buffer.from('ff0200000000000000000001ff00beef', 'hex');
    const memberships = () => {
      const mac = readFileSync('/proc/net/dev_mcast', 'utf8')
        .split('\n')
        .some((l) => l.includes(ifname) && l.includes('3333ff00beef'));
      const ipv6 = readFileSync('/proc/net/igmp6', 'utf8')
        .split('\n')
        .some((l) => l.includes(ifname) && l.includes('ff0200000000000000000001ff00beef'));
      return { mac, ipv6 };
    };
    const socket = openPacketSocket(ifname);
    const steps: Record<string, { mac: boolean; ipv6: boolean }> = { before: memberships() };
    socket.joinMulticast(group);
    steps.joinedOnce = memberships();
    socket.joinMulticast(group);
    steps.joinedTwice = memberships();
    socket.leaveMulticast(group);
    steps.leftOnce = memberships();
    socket.leaveMulticast(group);
    steps.leftTwice = memberships();
    socket.joinMulticast(group);
    socket.close();
    steps.closedWhileJoined = memberships();
    print({ ok: true, ...steps });
    break;
  }
  default:
    print({ ok: false, message: `unknown mode ${String(mode)}` });
    process.exitCode = 2;
}
