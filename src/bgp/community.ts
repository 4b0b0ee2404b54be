import { isPlainObject, readObjectStart } from './fields.js';

/** A BGP community in FRR's spelling: standard `65535:65282` or large `1:2:3`. */
export type BgpCommunity =
  | { readonly kind: 'standard'; readonly value: string }
  | { readonly kind: 'large'; readonly value: string };

const U16 = 65535;
const U32 = 4_294_967_295;

function parts(text: string, count: number, max: number): string | undefined {
  const items = text.split(':');
  if (items.length !== count || items.some((p) => !/^\d{1,10}$/.test(p) || Number(p) > max)) return undefined;
  return items.map((p) => String(Number(p))).join(':');
}

/** `1234:1234` (two 16-bit numbers) or `large:1:2:3` (three 32-bit numbers); undefined when neither. */
export function parseCommunityValue(text: string): BgpCommunity | undefined {
  if (text.startsWith('large:')) {
    const value = parts(text.slice('large:'.length), 3, U32);
    return value === undefined ? undefined : { kind: 'large', value };
  }
  const value = parts(text, 2, U16);
  return value === undefined ? undefined : { kind: 'standard', value };
}

export function formatCommunity(community: BgpCommunity): string {
  return community.kind === 'large' ? `large:${community.value}` : community.value;
}

/** A Community object: named aliases for community values. */
export interface ParsedCommunityAliases {
  readonly name: string;
  readonly aliases: ReadonlyMap<string, BgpCommunity>;
}

export type ParseCommunityResult = { ok: true; community: ParsedCommunityAliases } | { ok: false; errors: string[] };

const ALIAS_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Validates a raw Community; every error names its field. Never throws on bad input. */
export function parseCommunity(raw: unknown): ParseCommunityResult {
  const start = readObjectStart(raw, 'Community', 'optional');
  if (!start.ok) return start;
  const { name, spec, errors } = start;
  const aliases = new Map<string, BgpCommunity>();
  if (spec.communities !== undefined && !Array.isArray(spec.communities)) {
    errors.push('spec.communities: must be a list of {name, value}');
  } else {
    ((spec.communities as unknown[] | undefined) ?? []).forEach((item: unknown, index: number) => {
      const path = `spec.communities[${index}]`;
      if (!isPlainObject(item)) {
        errors.push(`${path}: must be an object with name and value`);
        return;
      }
      if (typeof item.name !== 'string' || !ALIAS_NAME.test(item.name)) {
        errors.push(`${path}.name: ${JSON.stringify(item.name)} is not an alias name (letters, digits, "-", "_", ".")`);
        return;
      }
      if (aliases.has(item.name)) errors.push(`${path}.name: "${item.name}" is defined twice`);
      const value = typeof item.value === 'string' ? parseCommunityValue(item.value) : undefined;
      if (value === undefined)
        errors.push(
          `${path}.value: ${JSON.stringify(item.value)} is not a community (like 65535:65282 or large:1:2:3)`,
        );
      else aliases.set(item.name, value);
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, community: { name, aliases } };
}
