import { BFD_DEFAULTS, bfdProfileSpec } from '../api/schema/bgp.js';
import { readBoolean, readObjectStart, readSpecInteger } from './fields.js';

export { BFD_DEFAULTS };
const fields = bfdProfileSpec.properties;

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

/** Validates a raw BFDProfile; every error names its field. Never throws on bad input. */
export function parseBFDProfile(raw: unknown): ParseBFDProfileResult {
  const start = readObjectStart(raw, 'BFDProfile', 'optional');
  if (!start.ok) return start;
  const { name, spec, errors } = start;
  const profile: ParsedBFDProfile = {
    name,
    receiveInterval: readSpecInteger(spec, 'receiveInterval', fields, errors) ?? BFD_DEFAULTS.receiveInterval,
    transmitInterval: readSpecInteger(spec, 'transmitInterval', fields, errors) ?? BFD_DEFAULTS.transmitInterval,
    detectMultiplier: readSpecInteger(spec, 'detectMultiplier', fields, errors) ?? BFD_DEFAULTS.detectMultiplier,
    echoInterval: readSpecInteger(spec, 'echoInterval', fields, errors) ?? BFD_DEFAULTS.echoInterval,
    echoMode: readBoolean(spec.echoMode, 'spec.echoMode', errors),
    passiveMode: readBoolean(spec.passiveMode, 'spec.passiveMode', errors),
    minimumTtl: readSpecInteger(spec, 'minimumTtl', fields, errors) ?? BFD_DEFAULTS.minimumTtl,
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, profile };
}
