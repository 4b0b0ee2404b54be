// The public surface of src/ipam: address math, ranges and the allocator.
export * from '../ip/address.js';
export * from '../ip/range.js';
export * from './types.js';
export { Allocator } from './allocator.js';
export { FreeIntervalSet } from './free-set.js';
