// The programs the manifests start, run as the kubelet would start them: the
// container's args and env from `kubectl kustomize deploy/`, handed to the
// built program. Flags are compared with what the program's `--help` lists.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startMetricsServer } from '../../src/metrics/server.js';
import { parseControllerFlags } from '../../controller/flags.js';
import { parseSpeakerFlags } from '../../speaker/flags.js';
import { type Container, expandedArgs, findObject, podTemplateOf, renderKustomization } from './deploy-manifests.js';
import { type Program, builtEntry, flagsInUsage, helpFlags, runNode } from './deploy-programs.js';

const objects = renderKustomization('deploy');
const firstContainer = (kind: string, name: string): Container =>
  podTemplateOf(findObject(objects, kind, name)).spec.containers[0];
const workloads: Array<{ program: Program; container: Container }> = [
  { program: 'controller', container: firstContainer('Deployment', 'ironlb-controller') },
  { program: 'speaker', container: firstContainer('DaemonSet', 'ironlb-speaker') },
];
const POD = { namespace: 'ironlb-system', node: 'node-a' };

/** The environment the manifest gives the container, downward-API fields filled as a kubelet would. */
function manifestEnv(container: Container): Record<string, string> {
  const fields: Record<string, string> = {
    'spec.nodeName': POD.node,
    'metadata.namespace': POD.namespace,
    'metadata.name': 'pod-a',
    'status.hostIP': '192.0.2.11',
  };
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const value = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ''];
    if (value === undefined) throw new Error(`env ${e.name}: no value and no known fieldRef`);
    env[e.name] = value;
  }
  return env;
}

/** The pure parser behind each program's flags, with every check after the walk (help stops before some). */
const parsers: Record<Program, (argv: readonly string[], env: Record<string, string>) => unknown> = {
  controller: (argv) => parseControllerFlags(argv),
  speaker: (argv, env) => parseSpeakerFlags(argv, env),
};

describe('the programs the manifests start', () => {
  for (const { program, container } of workloads) {
    const args = expandedArgs(container, POD.namespace, POD.node);
    const env = manifestEnv(container);

    it(`${program}: the container's command line starts ${program} and it accepts every argument`, () => {
      builtEntry(program);
      // `--help` last: the program parses every argument first (an unknown flag or a bad value exits 2),
      // then prints its usage instead of connecting to a cluster.
      const run = runNode([...args, '--help'], env);
      expect(run.stderr, `${program}: ${args.join(' ')}`).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^usage: node dist/${program}/main\\.js`));
    });

    it(`${program}: every flag the manifest passes is one --help lists, and the full parse accepts them`, () => {
      const passed = args
        .slice(1)
        .filter((a) => a.startsWith('--'))
        .map((a) => a.split('=')[0]);
      expect(passed.length).toBeGreaterThan(0);
      const listed = new Set(helpFlags(program));
      for (const flag of passed) expect(listed.has(flag ?? ''), `${program} --help lists ${flag}`).toBe(true);
      expect(() => parsers[program](args.slice(1), env)).not.toThrow();
    });
  }

  it('the checks can fail: an unknown flag or a bad value in the manifest makes the program exit 2', () => {
    const { container } = workloads[0];
    const args = expandedArgs(container, POD.namespace, POD.node);
    const unknown = runNode([...args, '--no-such-flag=1', '--help'], manifestEnv(container));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown flag "--no-such-flag=1"');
    const badValue = runNode([...args, '--metrics-port=http', '--help'], manifestEnv(container));
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('--metrics-port: expected a port');
    expect(flagsInUsage('usage: x\n  --a-flag N   text\n  --b  more\nnot --c\n')).toEqual(['--a-flag', '--b']);
  });

  it('probes hit the paths src/metrics/server.ts serves, on the port passed as --metrics-port', async () => {
    let ready = true;
    const registry = new Registry();
    const server = await startMetricsServer({
      port: -1,
      host: '127.0.0.1',
      registry,
      healthy: () => true,
      ready: () => ready,
    });
    if (!server) throw new Error('metrics server disabled');
    try {
      for (const { program, container } of workloads) {
        const port = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
        expect(expandedArgs(container, POD.namespace, POD.node), program).toContain(`--metrics-port=${port}`);
        for (const probe of [container.livenessProbe, container.readinessProbe]) {
          expect(probe?.httpGet?.port, program).toBe('metrics');
          const answer = await fetch(`http://127.0.0.1:${server.port}${probe?.httpGet?.path ?? ''}`);
          expect(answer.status, `${program} ${probe?.httpGet?.path}`).toBe(200);
        }
        ready = false;
        const readiness = container.readinessProbe?.httpGet?.path ?? '';
        expect((await fetch(`http://127.0.0.1:${server.port}${readiness}`)).status).toBe(503);
        ready = true;
      }
    } finally {
      await server.close();
    }
  });
});
