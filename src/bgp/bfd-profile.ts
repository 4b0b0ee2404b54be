import { isPlainObject, readBoolean, readInteger, readObjectName } from './fields.js';

/** A BFDProfile with MetalLB's defaults filled in (3 x 300 ms = 0.9 s detection). */
export interface ParsedBFDProfile {
  readonly name: string;
  /** Milliseconds. */
  readonly receiveInterval: number;
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
  readonly echoInterval: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

export type ParseBFDProfileResult = { ok: true; profile: ParsedBFDProfile } | { ok: false; errors: string[] };

export const BFD_DEFAULTS = { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: 50, minimumTtl: 254 } as const;

/** Validates a raw BFDProfile; every error names its field. Never throws on bad input. */
export function parseBFDProfile(raw: unknown): ParseBFDProfileResult {
  if (!isPlainObject(raw)) return { ok: false, errors: ['BFDProfile: must be an object'] };
  const errors: string[] = [];
  const name = readObjectName(raw, errors);
  const spec = raw.spec === undefined ? {} : raw.spec;
  if (!isPlainObject(spec)) {
    errors.push('spec: must be an object');
    return { ok: false, errors };
  }
  const profile: ParsedBFDProfile = {
    name,
    receiveInterval: readInteger(spec.receiveInterval, 'spec.receiveInterval', 10, 60000, errors) ?? BFD_DEFAULTS.receiveInterval,
    transmitInterval: readInteger(spec.transmitInterval, 'spec.transmitInterval', 10, 60000, errors) ?? BFD_DEFAULTS.transmitInterval,
    detectMultiplier: readInteger(spec.detectMultiplier, 'spec.detectMultiplier', 2, 255, errors) ?? BFD_DEFAULTS.detectMultiplier,
    echoInterval: readInteger(spec.echoInterval, 'spec.echoInterval', 10, 60000, errors) ?? BFD_DEFAULTS.echoInterval,
    echoMode: readBoolean(spec.echoMode, 'spec.echoMode', errors),
    passiveMode: readBoolean(spec.passiveMode, 'spec.passiveMode', errors),
    minimumTtl: readInteger(spec.minimumTtl, 'spec.minimumTtl', 1, 254, errors) ?? BFD_DEFAULTS.minimumTtl,
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, profile };
}
