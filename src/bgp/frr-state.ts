// FRR's own view of its sessions, read from `vtysh -c 'show bgp neighbors
// json'` and `vtysh -c 'show bfd peers json'` (FRR 8.4's field names; the
// unit tests hold output captured from it). Pure: text in, states out.
import { isPlainObject } from './fields.js';

export interface BgpSessionState {
  /** The neighbor address as FRR prints it (its key). */
  readonly address: string;
  /** `neighbor … description`: the BGPPeer's name, as the renderer writes it. */
  readonly peer?: string;
  /** FRR's state: Idle, Connect, Active, OpenSent, OpenConfirm, Established, Clearing, Deleted. */
  readonly state: string;
  readonly established: boolean;
  /** Prefixes sent to the peer, over every address family. */
  readonly prefixesSent: number;
  readonly prefixesReceived: number;
  /** Why the session last went down (FRR's `lastResetDueTo`, with the NOTIFICATION reason when there was one). */
  readonly lastError?: string;
  /** Times the session was established and dropped since FRR started. */
  readonly connectionsEstablished: number;
  readonly connectionsDropped: number;
}

export interface BfdPeerState {
  readonly peer: string;
  readonly local?: string;
  /** FRR: up, down, init, shutdown. */
  readonly status: string;
  /** Why it last went down, when not ok (e.g. `control detection time expired`). */
  readonly diagnostic?: string;
}

/** Thrown for output that is not what FRR 8.4 prints: the caller reports it, never guesses. */
export class FrrOutputError extends Error {}

function parseJson(text: string, command: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new FrrOutputError(`${command}: not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** `show bgp neighbors json`: an object keyed by neighbor address. `{}` when bgpd has no `router bgp`. */
export function parseBgpNeighbors(text: string): Map<string, BgpSessionState> {
  const command = 'show bgp neighbors json';
  const raw = parseJson(text, command);
  if (!isPlainObject(raw)) throw new FrrOutputError(`${command}: expected an object keyed by neighbor address`);
  const result = new Map<string, BgpSessionState>();
  for (const [address, value] of Object.entries(raw)) {
    if (!isPlainObject(value)) continue; // FRR adds scalar summary keys in some versions
    const state = str(value.bgpState);
    if (state === undefined) throw new FrrOutputError(`${command}: neighbor ${address} has no bgpState`);
    let sent = 0;
    let received = 0;
    if (isPlainObject(value.addressFamilyInfo)) {
      for (const family of Object.values(value.addressFamilyInfo)) {
        if (!isPlainObject(family)) continue;
        sent += num(family.sentPrefixCounter);
        received += num(family.acceptedPrefixCounter);
      }
    }
    const reset = str(value.lastResetDueTo);
    const notification = str(value.lastNotificationReason);
    const lastError =
      reset === undefined ? notification : notification === undefined ? reset : `${reset} (${notification})`;
    const peer = str(value.nbrDesc);
    result.set(address, {
      address,
      peer,
      state,
      established: state === 'Established',
      prefixesSent: sent,
      prefixesReceived: received,
      lastError,
      connectionsEstablished: num(value.connectionsEstablished),
      connectionsDropped: num(value.connectionsDropped),
    });
  }
  return result;
}

/** `show bfd peers json`: an array of sessions. */
export function parseBfdPeers(text: string): BfdPeerState[] {
  const command = 'show bfd peers json';
  const raw = parseJson(text, command);
  if (!Array.isArray(raw)) throw new FrrOutputError(`${command}: expected an array of peers`);
  return raw.flatMap((value: unknown): BfdPeerState[] => {
    if (!isPlainObject(value)) return [];
    const peer = str(value.peer);
    const status = str(value.status);
    if (peer === undefined || status === undefined) {
      throw new FrrOutputError(`${command}: a peer without "peer" or "status"`);
    }
    const local = str(value.local);
    const diagnostic = str(value.diagnostic);
    const why = diagnostic !== undefined && diagnostic !== 'ok' ? { diagnostic } : {};
    return [{ peer, status, local, ...why }];
  });
}
