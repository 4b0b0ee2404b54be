import { parseSelectorList } from '../api/pool.js';
import type { LabelSelector } from '../api/types.js';
import { DEFAULT_PEER_PORT, bgpPeerSpec } from '../api/schema/bgp.js';
import {
  OBJECT_NAME,
  isPlainObject,
  readAddress,
  readBoolean,
  readObjectStart,
  readSeconds,
  readSpecInteger,
  type Address,
} from './fields.js';

export { DEFAULT_PEER_PORT };

/** A BGPPeer that passed validation; MetalLB's field names, times in seconds. */
export interface ParsedBGPPeer {
  readonly name: string;
  readonly myASN: number;
  /** Exactly one of peerASN and dynamicASN is set. */
  readonly peerASN?: number;
  readonly dynamicASN?: 'internal' | 'external';
  readonly peerAddress: Address;
  readonly peerPort: number;
  readonly sourceAddress?: Address;
  /** Both set or both unset: one alone implies the other, as in MetalLB. */
  readonly holdTime?: number;
  readonly keepaliveTime?: number;
  readonly connectTime?: number;
  readonly routerID?: string;
  readonly nodeSelectors: readonly LabelSelector[];
  readonly password?: string;
  /** Name of a kubernetes.io/basic-auth Secret holding the password under `password`. */
  readonly passwordSecret?: string;
  readonly bfdProfile?: string;
  readonly ebgpMultiHop: boolean;
  readonly enableGracefulRestart: boolean;
}

export type ParseBGPPeerResult = { ok: true; peer: ParsedBGPPeer } | { ok: false; errors: string[] };

/** TCP MD5 keys are at most 80 bytes (TCP_MD5SIG_MAXKEYLEN); FRR takes one word. */
const PASSWORD = /^[\x21-\x7e]{1,80}$/;

/** Validates a raw BGPPeer; every error names its field. Never throws on bad input. */
export function parseBGPPeer(raw: unknown): ParseBGPPeerResult {
  const start = readObjectStart(raw, 'BGPPeer', 'required');
  if (!start.ok) return start;
  const { name, spec, errors } = start;
  const fields = bgpPeerSpec.properties;
  const myASN = readSpecInteger(spec, 'myASN', fields, errors);
  if (spec.myASN === undefined) errors.push('spec.myASN: required');
  const peerASN = readSpecInteger(spec, 'peerASN', fields, errors);
  let dynamicASN: ParsedBGPPeer['dynamicASN'];
  if (spec.dynamicASN !== undefined) {
    if (spec.dynamicASN === 'internal' || spec.dynamicASN === 'external') dynamicASN = spec.dynamicASN;
    else errors.push(`spec.dynamicASN: must be "internal" or "external" (got ${JSON.stringify(spec.dynamicASN)})`);
  }
  if (spec.peerASN === undefined && spec.dynamicASN === undefined)
    errors.push('spec.peerASN: required unless spec.dynamicASN is set');
  if (spec.peerASN !== undefined && spec.dynamicASN !== undefined)
    errors.push('spec.dynamicASN: set only one of spec.peerASN and spec.dynamicASN');

  const peerAddress = readAddress(spec.peerAddress, 'spec.peerAddress', errors);
  if (spec.peerAddress === undefined) errors.push('spec.peerAddress: required');
  const peerPort = readSpecInteger(spec, 'peerPort', fields, errors) ?? DEFAULT_PEER_PORT;
  const sourceAddress = readAddress(spec.sourceAddress, 'spec.sourceAddress', errors);
  if (sourceAddress && peerAddress && sourceAddress.family !== peerAddress.family) {
    errors.push(
      `spec.sourceAddress: ${sourceAddress.text} is ${sourceAddress.family} but spec.peerAddress is ` +
        `${peerAddress.family}`,
    );
  }

  const timers = readTimers(spec.holdTime, spec.keepaliveTime, errors);
  const connectTime = readSeconds(spec.connectTime, 'spec.connectTime', 1, 65535, errors);
  const routerID = readAddress(spec.routerID, 'spec.routerID', errors);
  if (routerID && routerID.family !== 'IPv4')
    errors.push(`spec.routerID: must be an IPv4 address (got ${JSON.stringify(spec.routerID)})`);
  const nodeSelectors = parseSelectorList(spec.nodeSelectors, 'spec.nodeSelectors', errors);

  let password: string | undefined;
  if (spec.password !== undefined) {
    if (typeof spec.password !== 'string' || !PASSWORD.test(spec.password)) {
      errors.push('spec.password: must be 1 to 80 printable ASCII characters without spaces');
    } else password = spec.password;
  }
  let passwordSecret: string | undefined;
  if (spec.passwordSecret !== undefined) {
    const ref = spec.passwordSecret;
    if (!isPlainObject(ref) || typeof ref.name !== 'string' || !OBJECT_NAME.test(ref.name)) {
      errors.push('spec.passwordSecret.name: must name a Secret');
    } else passwordSecret = ref.name;
    if (spec.password !== undefined) {
      errors.push('spec.passwordSecret: set only one of spec.password and spec.passwordSecret');
    }
  }
  let bfdProfile: string | undefined;
  if (spec.bfdProfile !== undefined && spec.bfdProfile !== '') {
    if (typeof spec.bfdProfile !== 'string' || !OBJECT_NAME.test(spec.bfdProfile))
      errors.push(`spec.bfdProfile: ${JSON.stringify(spec.bfdProfile)} is not a BFDProfile name`);
    else bfdProfile = spec.bfdProfile;
  }
  const ebgpMultiHop = readBoolean(spec.ebgpMultiHop, 'spec.ebgpMultiHop', errors);
  if (ebgpMultiHop && ((peerASN !== undefined && peerASN === myASN) || dynamicASN === 'internal')) {
    errors.push('spec.ebgpMultiHop: not allowed for an iBGP peer (peer AS equals myASN)');
  }
  const enableGracefulRestart = readBoolean(spec.enableGracefulRestart, 'spec.enableGracefulRestart', errors);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    peer: {
      name,
      myASN: myASN!,
      ...(peerASN !== undefined ? { peerASN } : { dynamicASN: dynamicASN! }),
      peerAddress: peerAddress!,
      peerPort,
      sourceAddress: sourceAddress || undefined,
      ...timers,
      connectTime,
      routerID: routerID ? routerID.text : undefined,
      nodeSelectors,
      password,
      passwordSecret,
      bfdProfile,
      ebgpMultiHop,
      enableGracefulRestart,
    },
  };
}

/** MetalLB's rule: one timer alone sets the other (hold = 3 x keepalive); hold is 0 or >= 3 s; keepalive <= hold. */
function readTimers(
  rawHold: unknown,
  rawKeepalive: unknown,
  errors: string[],
): { holdTime?: number; keepaliveTime?: number } {
  const hold = readSeconds(rawHold, 'spec.holdTime', 0, 65535, errors);
  const keepalive = readSeconds(rawKeepalive, 'spec.keepaliveTime', 0, 65535, errors);
  if (hold !== undefined && hold !== 0 && hold < 3) {
    errors.push(`spec.holdTime: ${JSON.stringify(rawHold)} must be 0 or at least 3s`);
    return {};
  }
  if (hold === undefined && keepalive === undefined) return {};
  const holdTime = hold ?? Math.min(keepalive! * 3, 65535);
  const keepaliveTime = keepalive ?? Math.floor(holdTime / 3);
  if (keepaliveTime > holdTime) {
    errors.push(
      `spec.keepaliveTime: ${JSON.stringify(rawKeepalive)} must not be longer than spec.holdTime (${holdTime}s)`,
    );
    return {};
  }
  return { holdTime, keepaliveTime };
}
