// deploy/bgp, the kustomize Component of BGP mode, added to deploy/ the way
// its header tells users to: rendered by kubectl's kustomize.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpeakerFlags } from '../../speaker/flags.js';
import { renderKustomization, repoRoot } from './deploy-manifests.js';

interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  securityContext?: { capabilities?: { add?: string[]; drop?: string[] }; allowPrivilegeEscalation?: boolean };
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{ name: string; emptyDir?: object }>;
  securityContext?: { supplementalGroups?: number[] };
}

function render(): PodSpec {
  const dir = mkdtempSync(path.join(tmpdir(), 'ironlb-bgp-kustomize-'));
  try {
    const deploy = path.relative(dir, path.join(repoRoot, 'deploy'));
    writeFileSync(path.join(dir, 'kustomization.yaml'), `resources:\n  - ${deploy}\ncomponents:\n  - ${deploy}/bgp\n`);
    const speaker = renderKustomization(dir).find(
      (o) => o.kind === 'DaemonSet' && o.metadata.name === 'ironlb-speaker',
    );
    if (!speaker) throw new Error('the render has no ironlb-speaker DaemonSet');
    return (speaker.spec as { template: { spec: PodSpec } }).template.spec;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('deploy/ with the deploy/bgp component', () => {
  const pod = render();
  const speaker = pod.containers.find((c) => c.name === 'speaker')!;
  const frr = pod.containers.find((c) => c.name === 'frr')!;

  it("adds the FRR container, from the same image, with exactly FRR's four capabilities", () => {
    expect(pod.containers.map((c) => c.name)).toEqual(['speaker', 'frr']);
    expect(frr.image).toBe(speaker.image);
    expect(frr.command).toEqual(['/usr/local/bin/ironlb-frr-start']);
    expect([...(frr.securityContext?.capabilities?.add ?? [])].sort()).toEqual([
      'NET_ADMIN',
      'NET_BIND_SERVICE',
      'NET_RAW',
      'SYS_ADMIN',
    ]);
    expect(frr.securityContext?.allowPrivilegeEscalation).toBe(false);
  });

  it('leaves the speaker its NET_RAW only, and gives it the shared socket folder and the BGP flag', () => {
    expect(speaker.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['NET_RAW'] });
    // $(VAR) is the kubelet's expansion of the container's env.
    const env: Record<string, string> = { NODE_NAME: 'node-a', POD_NAMESPACE: 'ironlb-system', HOST_IP: '192.0.2.11' };
    const args = (speaker.args ?? [])
      .slice(1)
      .map((a) => a.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? ''));
    const flags = parseSpeakerFlags(args, env);
    expect(flags.frrVtySocket).toBe('/var/run/frr');
    for (const c of [speaker, frr])
      expect(c.volumeMounts).toContainEqual({ name: 'frr-sockets', mountPath: '/var/run/frr' });
    expect(pod.volumes).toContainEqual({ name: 'frr-sockets', emptyDir: {} });
  });

  it('puts the speaker in group frrvty, whose id the Dockerfile fixes', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'deploy', 'Dockerfile'), 'utf8');
    const gid = Number(/groupadd --system --gid (\d+) frrvty/.exec(dockerfile)?.[1]);
    expect(pod.securityContext?.supplementalGroups).toEqual([gid]);
  });
});
