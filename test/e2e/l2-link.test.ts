// The owner's link goes down and up, or its interface is deleted and created
// again: the packet socket reports it and keeps answering afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab } from '../lab/lab.js';
import { startAgent, type Agent } from '../lab/agent.js';

const VIP4 = '192.0.2.220';
const VIP6 = '2001:db8::220';

let lab: Lab;
let agent: Agent;

beforeAll(async () => {
  lab = await createLab({ nodes: 1 });
  await lab.addVip(lab.node(1), VIP4);
  await lab.addVip(lab.node(1), VIP6);
  agent = await startAgent(lab, lab.node(1));
  await agent.own(VIP4);
  await agent.own(VIP6);
});

afterAll(async () => {
  await lab?.teardown();
});

describe('link down and up on the owner', () => {
  it('answers before, reports ENETDOWN while down, and answers again after', async () => {
    const node = lab.node(1);
    expect((await lab.arping(VIP4)).macs).toEqual([node.mac]);
    await lab.linkDown(node);
    const down = await agent.waitFor((e) => e.event === 'error' && /ENETDOWN|Network is down/.test(String(e.message)));
    expect(String(down.message)).toMatch(/eth0/);
    expect((await lab.arping(VIP4)).macs).toEqual([]);
    await lab.linkUp(node);
    // Generous: the first requests may go out before the bridge port forwards again.
    expect((await lab.arping(VIP4, { count: 5, timeoutS: 10 })).macs).toContain(node.mac);
    expect((await lab.ndisc6(VIP6, { tries: 5 })).macs).toContain(node.mac);
  });

  it('survives several quick flaps', async () => {
    const node = lab.node(1);
    for (let i = 0; i < 5; i++) {
      await lab.linkDown(node);
      await lab.linkUp(node);
    }
    expect((await lab.arping(VIP4, { count: 5, timeoutS: 10 })).macs).toContain(node.mac);
    expect((await lab.ndisc6(VIP6, { tries: 5 })).macs).toContain(node.mac);
  });
});

describe('interface deleted and created again', () => {
  it('reopens on the new ifindex, answers with the new MAC and rejoins the solicited-node group', async () => {
    const node = lab.node(1);
    const oldMac = node.mac;
    const before = await agent.stats();
    await lab.recreateLink(node);
    expect(node.mac).not.toBe(oldMac);
    // The recreated link needs a moment; the agent looks for it every second.
    let macs: string[] = [];
    for (let i = 0; i < 10 && macs.length === 0; i++) macs = (await lab.arping(VIP4, { count: 1, timeoutS: 2 })).macs;
    expect(macs).toEqual([node.mac]);
    expect((await lab.ndisc6(VIP6, { tries: 5 })).macs).toContain(node.mac);
    const after = await agent.stats();
    expect(after.reopens).toBe(before.reopens! + 1);
    // veth accepts every multicast frame, so answering does not prove the
    // rejoin: the interface's multicast list does (link-level and IPv6 group).
    const maddr = await lab.exec(node.name, ['ip', 'maddr', 'show', 'dev', 'eth0']);
    expect(maddr.stdout).toContain('33:33:ff:00:02:20');
    expect(maddr.stdout).toContain('ff02::1:ff00:220');
  });
});
