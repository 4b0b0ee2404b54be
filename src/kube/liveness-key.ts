import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../log/logger.js';
import type { KubeClient } from './client.js';
import { isConflict, isNotFound } from './errors.js';

// The cluster key of the liveness mesh (docs/liveness.md): a Secret in the
// ironlb namespace that the controller creates when it is missing (as MetalLB
// does with its memberlist secret) and every speaker reads, by name only.
// `data.keys`: base64 keys, one per line, newest first; several during a
// rotation (put the new one first, remove the old one a few minutes later).

export const LIVENESS_KEY_SECRET = 'ironlb-liveness-key';
const KEYS_FIELD = 'keys';
const KEY_BYTES = 32;

/** The keys a Secret holds, newest first; throws naming what is wrong. */
export function parseLivenessKeys(secret: V1Secret): Buffer[] {
  const field = secret.data?.[KEYS_FIELD];
  if (field === undefined) throw new Error(`secret ${LIVENESS_KEY_SECRET} has no data.${KEYS_FIELD}`);
  const lines = Buffer.from(field, 'base64')
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) throw new Error(`secret ${LIVENESS_KEY_SECRET}: data.${KEYS_FIELD} holds no key`);
  return lines.map((line, i) => {
    const key = Buffer.from(line, 'base64');
    if (key.length < 16 || key.toString('base64').replace(/=+$/, '') !== line.replace(/=+$/, '')) {
      throw new Error(`secret ${LIVENESS_KEY_SECRET}: key ${i + 1} is not base64 of at least 16 bytes`);
    }
    return key;
  });
}

export function livenessKeySecret(namespace: string, keys: readonly Buffer[]): V1Secret {
  const text = keys.map((k) => k.toString('base64')).join('\n');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: LIVENESS_KEY_SECRET, namespace, labels: { 'app.kubernetes.io/name': 'ironlb' } },
    type: 'Opaque',
    data: { [KEYS_FIELD]: Buffer.from(text).toString('base64') },
  };
}

/** Controller start: creates the Secret with one random key unless it exists. */
export async function ensureLivenessKey(client: KubeClient, namespace: string, logger: Logger): Promise<void> {
  try {
    await client.core.readNamespacedSecret({ name: LIVENESS_KEY_SECRET, namespace });
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await client.core.createNamespacedSecret({
      namespace,
      body: livenessKeySecret(namespace, [randomBytes(KEY_BYTES)]),
    });
    logger.info({ secret: LIVENESS_KEY_SECRET }, 'created the liveness key');
  } catch (err) {
    if (!isConflict(err)) throw err; // another controller replica made it first
  }
}

/** Speaker: the current keys, or undefined while the Secret does not exist yet. */
export async function readLivenessKeys(client: KubeClient, namespace: string): Promise<Buffer[] | undefined> {
  try {
    return parseLivenessKeys(await client.core.readNamespacedSecret({ name: LIVENESS_KEY_SECRET, namespace }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
