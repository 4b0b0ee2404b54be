// The CEL rules our CRDs use, as TypeScript predicates keyed by the rule text.
// There is no CEL evaluator on npm that covers Kubernetes' strings library, so
// each rule is written out by hand here; loading a CRD whose rule has no entry
// fails (see `celPredicateFor`), and a test checks every rule in deploy/crds.
import type { Json } from './patch.js';

export type CelPredicate = (self: Json) => boolean;

/** Whitespace is not significant in CEL, and YAML folding changes it. */
export function normalizeRule(rule: string): string {
  return rule.replace(/\s+/g, ' ').trim();
}

// CEL `int()` on a decimal string; the rule's matches() guard ensures digits.
function ipv4Value(dotted: string): number {
  return dotted.split('.').reduce((sum, octet) => sum * 256 + Number.parseInt(octet, 10), 0);
}

const ipv4Range = /^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+[ ]*-[ ]*[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$/;

const predicates = new Map<string, CelPredicate>([
  [
    normalizeRule(
      "!self.contains('-') || self.split('-')[0].contains(':') == self.split('-')[1].contains(':')",
    ),
    (self) => {
      const text = String(self);
      if (!text.includes('-')) return true;
      const [start, end] = text.split('-');
      return start.includes(':') === end.includes(':');
    },
  ],
  [
    normalizeRule(`!self.matches('^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+[ ]*-[ ]*[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$') ||
      int(self.split('-')[0].trim().split('.')[0]) * 16777216 + int(self.split('-')[0].trim().split('.')[1]) * 65536 +
      int(self.split('-')[0].trim().split('.')[2]) * 256 + int(self.split('-')[0].trim().split('.')[3]) <=
      int(self.split('-')[1].trim().split('.')[0]) * 16777216 + int(self.split('-')[1].trim().split('.')[1]) * 65536 +
      int(self.split('-')[1].trim().split('.')[2]) * 256 + int(self.split('-')[1].trim().split('.')[3])`),
    (self) => {
      const text = String(self);
      if (!ipv4Range.test(text)) return true;
      const [start, end] = text.split('-');
      return ipv4Value(start.trim()) <= ipv4Value(end.trim());
    },
  ],
]);

export function celPredicateFor(rule: string): CelPredicate | undefined {
  return predicates.get(normalizeRule(rule));
}
