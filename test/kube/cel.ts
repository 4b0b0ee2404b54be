// The CRDs' x-kubernetes-validations rules, evaluated by a real CEL evaluator
// (@bufbuild/cel, with the strings extension and RE2 regular expressions, as
// kube-apiserver's cel-go). A rule that does not parse, or calls a function
// kube-apiserver 1.29 does not have, refuses its CRD.
import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

export interface CompiledRule {
  readonly rule: string;
  /** Uses `oldSelf`: run on updates only, when an old value correlates. */
  readonly transition: boolean;
  /** true, false, or the evaluation error's text. */
  evaluate(self: CelInput, oldSelf?: CelInput): boolean | string;
}

/**
 * Functions of CEL in Kubernetes 1.29: the standard library (with the duration
 * and timestamp accessors), the strings extension, the Kubernetes list, regex
 * and URL libraries. ip(), cidr() and friends arrived in 1.30/1.31, cel.bind
 * later. Macros (has, all, exists, exists_one, map, filter) are expanded by the
 * parser and never reach this list.
 */
export const KUBE_1_29_FUNCTIONS: ReadonlySet<string> = new Set([
  'size',
  'int',
  'uint',
  'double',
  'string',
  'bool',
  'bytes',
  'type',
  'duration',
  'timestamp',
  'dyn',
  'contains',
  'startsWith',
  'endsWith',
  'matches',
  'getHours',
  'getMinutes',
  'getSeconds',
  'getMilliseconds',
  'getFullYear',
  'getMonth',
  'getDate',
  'getDayOfMonth',
  'getDayOfWeek',
  'getDayOfYear',
  'charAt',
  'indexOf',
  'lastIndexOf',
  'lowerAscii',
  'upperAscii',
  'replace',
  'split',
  'substring',
  'trim',
  'join',
  'isSorted',
  'sum',
  'min',
  'max',
  'find',
  'findAll',
  'url',
  'isURL',
  'getScheme',
  'getHost',
  'getHostname',
  'getPort',
  'getEscapedPath',
  'getQuery',
]);

const env = celEnv({ funcs: strings });
const cache = new Map<string, CompiledRule>();

function mentionsOldSelf(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(mentionsOldSelf);
  if (node === null || typeof node !== 'object') return false;
  const record = node as Record<string, unknown>;
  if (record.case === 'identExpr' && (record.value as { name?: unknown } | undefined)?.name === 'oldSelf') return true;
  return Object.values(record).some(mentionsOldSelf);
}

/** Names of the functions a parsed expression calls (operators such as `_==_` left out). */
function calledFunctions(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const child of node) calledFunctions(child, into);
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    const name =
      record.case === 'callExpr' ? (record.value as { function?: unknown } | undefined)?.function : undefined;
    if (typeof name === 'string' && /^[A-Za-z]/.test(name)) into.add(name);
    for (const child of Object.values(record)) calledFunctions(child, into);
  }
  return into;
}

/** Parses and plans a rule once; throws when it is not CEL or calls a function 1.29 lacks. */
export function compileRule(rule: string): CompiledRule {
  const known = cache.get(rule);
  if (known) return known;
  const parsed = parse(rule);
  for (const name of calledFunctions(parsed.expr)) {
    if (!KUBE_1_29_FUNCTIONS.has(name))
      throw new Error(`undeclared reference to '${name}' (not in the CEL of Kubernetes 1.29)`);
  }
  const run = plan(env, parsed);
  const compiled: CompiledRule = {
    rule,
    transition: mentionsOldSelf(parsed.expr),
    evaluate(self, oldSelf) {
      const result = run(oldSelf === undefined ? { self } : { self, oldSelf });
      if (isCelError(result)) return result.message;
      return result === true;
    },
  };
  cache.set(rule, compiled);
  return compiled;
}
