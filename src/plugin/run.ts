// `kubectl ironlb`: parses the command line, reads through the given cluster
// port, prints. Returns the exit code: 0 done, 1 failed, 2 bad usage.
import { parseAllDocuments, stringify } from 'yaml';
import { USAGE, parsePluginArgs, type PluginArgs } from './args.js';
import { migrate, type MigratedObject } from './migrate.js';
import { nodeRows } from './nodes.js';
import { poolRows } from './pools.js';
import { renderNodes, renderPools, renderReport, renderStatus } from './render.js';
import type { ClusterState } from './state.js';
import { serviceStatuses } from './status.js';

export interface StateQuery {
  ironlbNamespace: string;
  /** undefined: every namespace. */
  namespace?: string;
  service?: string;
  /** pools and nodes need no Services or Events. */
  withoutServices?: boolean;
}

/** What the plugin needs from the API server (src/kube/plugin-cluster.ts). */
export interface PluginCluster {
  /** The kubeconfig context's namespace, else `default`. */
  contextNamespace(): string;
  readState(query: StateQuery): Promise<ClusterState>;
  /** MetalLB's custom objects of a namespace, every kind that exists there. */
  readMetalLB(namespace: string): Promise<unknown[]>;
  /** Creates each object; an existing one is left alone and reported. */
  create(objects: readonly MigratedObject[]): Promise<{ object: string; result: 'created' | 'exists' }[]>;
}

export interface PluginIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Promise<string>;
  /** Opens the cluster the flags point at; throws with what was tried when none is configured. */
  connect: (options: { kubeconfig?: string; context?: string }) => PluginCluster;
  now: () => number;
}

export async function runPlugin(argv: readonly string[], io: PluginIO): Promise<number> {
  let args: PluginArgs | 'help';
  try {
    args = parsePluginArgs(argv);
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  try {
    return await execute(args, io);
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

async function execute(args: PluginArgs, io: PluginIO): Promise<number> {
  if (args.command === 'migrate' && args.files.length > 0 && args.dryRun) return migrateCommand(args, io, undefined);
  const cluster = io.connect({
    kubeconfig: args.kubeconfig || undefined,
    context: args.context || undefined,
  });
  switch (args.command) {
    case 'status': {
      const namespace = args.allNamespaces ? undefined : (args.namespace ?? cluster.contextNamespace());
      const state = await cluster.readState({
        ironlbNamespace: args.ironlbNamespace,
        namespace: namespace || undefined,
        service: args.service || undefined,
      });
      const services = serviceStatuses(state, io.now());
      io.stdout(args.output === 'json' ? json(services) : renderStatus(services, args.service !== undefined, io.now()));
      return 0;
    }
    case 'pools': {
      const view = poolRows(await cluster.readState({ ironlbNamespace: args.ironlbNamespace, withoutServices: true }));
      io.stdout(args.output === 'json' ? json(view) : renderPools(view));
      return 0;
    }
    case 'nodes': {
      const rows = nodeRows(
        await cluster.readState({ ironlbNamespace: args.ironlbNamespace, withoutServices: true }),
        io.now(),
      );
      io.stdout(args.output === 'json' ? json(rows) : renderNodes(rows));
      return 0;
    }
    case 'migrate':
      return migrateCommand(args, io, cluster);
  }
}

async function readDocuments(
  args: PluginArgs,
  io: PluginIO,
  cluster: PluginCluster | undefined,
): Promise<{ source: string; object: unknown }[]> {
  if (args.fromCluster) {
    if (!cluster) throw new Error('--from-cluster needs a cluster');
    return (await cluster.readMetalLB(args.metallbNamespace)).map((object) => ({
      source: `cluster ${args.metallbNamespace}`,
      object,
    }));
  }
  const documents: { source: string; object: unknown }[] = [];
  for (const file of args.files) {
    const text = await io.readFile(file).catch((err: unknown) => {
      throw new Error(`-f ${file}: ${(err as Error).message}`);
    });
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`-f ${file}: ${doc.errors[0]!.message}`);
      documents.push({ source: file, object: doc.toJS() as unknown });
    }
  }
  return documents;
}

async function migrateCommand(args: PluginArgs, io: PluginIO, cluster: PluginCluster | undefined): Promise<number> {
  const result = migrate(await readDocuments(args, io, cluster), { namespace: args.ironlbNamespace });
  if (args.output === 'json') {
    io.stdout(json(result));
  } else {
    if (args.dryRun) io.stdout(result.objects.map((o) => stringify(o)).join('---\n'));
    io.stderr(renderReport(result.report));
  }
  if (result.failed) {
    io.stderr('\nmigrate: some objects could not be converted (lines marked error); nothing was written\n');
    return 1;
  }
  if (args.dryRun) return 0;
  if (!cluster) throw new Error('no cluster to write to');
  for (const r of await cluster.create(result.objects))
    io.stderr(`${r.object}: ${r.result === 'created' ? 'created' : 'already exists, left unchanged'}\n`);
  return 0;
}
