// The command line of `kubectl ironlb` (node:util parseArgs). Every bad input
// becomes an Error whose message names the flag; run.ts prints it with usage.
import { parseArgs } from 'node:util';

export const USAGE = `kubectl ironlb: what ironlb does with your Services, pools and nodes

Usage:
  kubectl ironlb status [SERVICE] [-n NAMESPACE | -A]   IPs, pool, announcing node and MAC, conditions, last events
  kubectl ironlb pools                                  addresses, used/free per family, Valid/Conflict, coverage
  kubectl ironlb nodes                                  speakers: live or not, IPs held, interfaces
  kubectl ironlb migrate -f FILE [-f FILE...] [--dry-run]
  kubectl ironlb migrate --from-cluster [--metallb-namespace NS] [--dry-run]
                                                        MetalLB pools, L2 and BGP objects -> ironlb

Flags:
  -o, --output table|json    (migrate: yaml|json) default table (migrate: yaml)
  -n, --namespace NS         Services of this namespace (default: the context's, else "default")
  -A, --all-namespaces       Services of every namespace
  -f, --filename FILE        MetalLB YAML to convert ("-" reads stdin); repeatable
      --from-cluster         read MetalLB's objects from the cluster instead
      --metallb-namespace NS where MetalLB's objects live (default metallb-system)
      --dry-run              print the ironlb YAML (stdout) and the report (stderr); change nothing
      --ironlb-namespace NS  ironlb's namespace (default ironlb-system)
      --kubeconfig FILE      as kubectl: else $KUBECONFIG, in-cluster, ~/.kube/config
      --context NAME         kubeconfig context
  -h, --help
`;

export type Command = 'status' | 'pools' | 'nodes' | 'migrate';

export interface PluginArgs {
  command: Command;
  output: 'table' | 'json' | 'yaml';
  /** undefined: the context's namespace. */
  namespace?: string;
  allNamespaces: boolean;
  service?: string;
  files: string[];
  fromCluster: boolean;
  metallbNamespace: string;
  dryRun: boolean;
  ironlbNamespace: string;
  kubeconfig?: string;
  context?: string;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function namespaceFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!NAMESPACE.test(value)) throw new Error(`${flag}: "${value}" is not a namespace name`);
  return value;
}

/** `help` when -h/--help or no command was given. */
export function parsePluginArgs(argv: readonly string[]): PluginArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: 'string', short: 'o' },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      filename: { type: 'string', short: 'f', multiple: true },
      'from-cluster': { type: 'boolean' },
      'metallb-namespace': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'ironlb-namespace': { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) return 'help';
  const [command, ...rest] = positionals;
  if (command !== 'status' && command !== 'pools' && command !== 'nodes' && command !== 'migrate') {
    throw new Error(`unknown command "${command}" (status, pools, nodes, migrate)`);
  }
  const maxArgs = command === 'status' ? 1 : 0;
  if (rest.length > maxArgs) throw new Error(`${command}: unexpected argument "${rest[maxArgs]}"`);
  const outputs = command === 'migrate' ? ['yaml', 'json'] : ['table', 'json'];
  const output = values.output ?? outputs[0]!;
  if (!outputs.includes(output))
    throw new Error(`--output: "${output}" is not one of ${outputs.join(', ')} for ${command}`);
  const files = values.filename ?? [];
  const fromCluster = values['from-cluster'] ?? false;
  if (command === 'migrate' && files.length === 0 && !fromCluster)
    throw new Error('migrate: give -f FILE (MetalLB YAML) or --from-cluster');
  if (command === 'migrate' && files.length > 0 && fromCluster)
    throw new Error('migrate: -f and --from-cluster exclude each other');
  if (command !== 'migrate') {
    for (const flag of ['filename', 'from-cluster', 'metallb-namespace', 'dry-run'] as const) {
      if (values[flag] !== undefined) throw new Error(`--${flag}: only for migrate`);
    }
  }
  if (command !== 'status' && (values.namespace !== undefined || values['all-namespaces'])) {
    throw new Error(
      `${command}: -n/-A select Services and apply to status only (pools and speakers live in --ironlb-namespace)`,
    );
  }
  if (values.namespace !== undefined && values['all-namespaces']) throw new Error('-n and -A exclude each other');
  if (rest[0] !== undefined && values['all-namespaces'])
    throw new Error('status SERVICE names one Service of one namespace: drop -A');
  const namespace = namespaceFlag('--namespace', values.namespace);
  return {
    command,
    output: output as PluginArgs['output'],
    namespace: namespace || undefined,
    allNamespaces: values['all-namespaces'] ?? false,
    service: rest[0],
    files,
    fromCluster,
    metallbNamespace: namespaceFlag('--metallb-namespace', values['metallb-namespace']) ?? 'metallb-system',
    dryRun: values['dry-run'] ?? false,
    ironlbNamespace: namespaceFlag('--ironlb-namespace', values['ironlb-namespace']) ?? 'ironlb-system',
    kubeconfig: values.kubeconfig,
    context: values.context,
  };
}
