// A small typed builder for the structural OpenAPI v3 schemas of our CRDs. The
// objects it returns are written to deploy/crds as they are (see crds.ts), and
// `TypeOf<S>` turns a schema into the TypeScript type of the raw object, so a
// field changed here changes the YAML, the types and the double's validation.

/** An `x-kubernetes-validations` entry: a CEL rule of kube-apiserver 1.29. */
export interface ValidationRule {
  readonly rule: string;
  /** Names the field, e.g. `spec.peerASN: ...`. */
  readonly message: string;
  /** Relative path (`.peerASN`) the error is reported at instead of the rule's node. */
  readonly fieldPath?: string;
}

interface Common {
  readonly description?: string;
  readonly 'x-kubernetes-validations'?: readonly ValidationRule[];
}

export interface StringSchema<T extends string = string> extends Common {
  readonly type: 'string';
  readonly enum?: readonly T[];
  readonly pattern?: string;
  readonly format?: 'date-time' | 'duration';
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly default?: T;
}

export interface IntegerSchema extends Common {
  readonly type: 'integer';
  readonly format?: 'int32' | 'int64';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly default?: number;
}

export interface BooleanSchema extends Common {
  readonly type: 'boolean';
  readonly default?: boolean;
}

export interface ArraySchema<I extends Schema = Schema> extends Common {
  readonly type: 'array';
  readonly items: I;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
}

export interface ObjectSchema<P extends Properties = Properties, R extends keyof P = keyof P> extends Common {
  readonly type: 'object';
  readonly required?: readonly R[];
  readonly properties?: P;
  readonly 'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** A map with free keys (`additionalProperties`), like `matchLabels`. */
export interface MapSchema<V extends Schema = Schema> extends Common {
  readonly type: 'object';
  readonly additionalProperties: V;
}

export type Schema = StringSchema | IntegerSchema | BooleanSchema | ArraySchema | ObjectSchema | MapSchema;
export type Properties = { readonly [name: string]: Schema };

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The TypeScript type of a value the schema accepts (defaults not applied: fields with one stay optional). */
export type TypeOf<S> =
  S extends StringSchema<infer T>
    ? T
    : S extends IntegerSchema
      ? number
      : S extends BooleanSchema
        ? boolean
        : S extends ArraySchema<infer I>
          ? Array<TypeOf<I>>
          : S extends MapSchema<infer V>
            ? Record<string, TypeOf<V>>
            : S extends ObjectSchema<infer P, infer R>
              ? Simplify<{ [K in R & keyof P]: TypeOf<P[K]> } & { [K in Exclude<keyof P, R>]?: TypeOf<P[K]> }>
              : never;

type Options<S> = Omit<S, 'type'>;

export function string<const T extends string = string>(options: Options<StringSchema<T>> = {}): StringSchema<T> {
  return { type: 'string', ...options };
}

export function integer(options: Options<IntegerSchema> = {}): IntegerSchema {
  return { type: 'integer', ...options };
}

export function boolean(options: Options<BooleanSchema> = {}): BooleanSchema {
  return { type: 'boolean', ...options };
}

export function array<I extends Schema>(
  items: I,
  options: Omit<Options<ArraySchema<I>>, 'items'> = {},
): ArraySchema<I> {
  return { type: 'array', ...options, items };
}

/** `required` lists the keys that must be present; every other property is optional. */
export function object<const P extends Properties, const R extends keyof P & string = never>(
  properties: P,
  options: Omit<Options<ObjectSchema<P, R>>, 'properties'> = {},
): ObjectSchema<P, R> & { readonly properties: P } {
  return { type: 'object', ...options, properties };
}

export function map<V extends Schema>(
  values: V,
  options: Omit<Options<MapSchema<V>>, 'additionalProperties'> = {},
): MapSchema<V> {
  return { type: 'object', ...options, additionalProperties: values };
}
