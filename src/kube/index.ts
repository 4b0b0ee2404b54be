// The only door to the API server. Everything else in ironlb gets plain data
// and callbacks from here.
export { loadKubeConfig, kubeConfigForServer, describeKubeConfig, type LoadKubeConfigOptions } from './config.js';
export {
  createKubeClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KubeClient,
  type KubeClientOptions,
  type OnRequest,
} from './client.js';
export { KubeHttpError, statusCodeOf, isNotFound, isConflict, isGone, describeError } from './errors.js';
export {
  Informer,
  createInformer,
  type ResourceKind,
  type InformerHandlers,
  type InformerOptions,
  type BackoffOptions,
} from './informer.js';
export {
  servicesKind,
  nodesKind,
  namespacesKind,
  endpointSlicesKind,
  leasesKind,
  customResourceKind,
  ipAddressPoolsKind,
  l2AdvertisementsKind,
  decodeLease,
  toMicroTime,
  IRONLB_GROUP,
  IRONLB_VERSION,
  type CustomResourceRef,
} from './resources.js';
export {
  patchServiceStatus,
  patchServiceAnnotations,
  patchCustomObjectStatus,
  patchIPAddressPoolStatus,
  type WriteOptions,
  type CustomObjectRef,
} from './status.js';
export { EventRecorder, type EventType, type EventObjectRef, type EventRecorderOptions } from './events.js';
export {
  LeaseClient,
  type LeaseFields,
  type LeaseMeta,
  type LeaseWriteResult,
  type LeaseDeleteResult,
  type LeaseConflict,
  type LeaseCallOptions,
} from './leases.js';
export { LeaderElector, type LeaderElectionOptions, type LeaderLeases } from './leader.js';
