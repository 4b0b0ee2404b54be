// The CRDs' x-kubernetes-validations rules, evaluated by a real CEL evaluator
// (@bufbuild/cel, with the strings extension and RE2 regular expressions, as
// kube-apiserver's cel-go). A rule that does not parse refuses its CRD.
import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

export interface CompiledRule {
  readonly rule: string;
  /** Uses `oldSelf`: run on updates only, when an old value correlates. */
  readonly transition: boolean;
  /** true, false, or the evaluation error's text. */
  evaluate(self: CelInput, oldSelf?: CelInput): boolean | string;
}

const env = celEnv({ funcs: strings });
const cache = new Map<string, CompiledRule>();

function mentionsOldSelf(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(mentionsOldSelf);
  if (node === null || typeof node !== 'object') return false;
  const record = node as Record<string, unknown>;
  if (record.case === 'identExpr' && (record.value as { name?: unknown } | undefined)?.name === 'oldSelf') return true;
  return Object.values(record).some(mentionsOldSelf);
}

/** Parses and plans a rule once; throws with the parser's message when it is not CEL. */
export function compileRule(rule: string): CompiledRule {
  const known = cache.get(rule);
  if (known) return known;
  const parsed = parse(rule);
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

