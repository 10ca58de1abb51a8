// The public library API. Each pipeline stage re-exports its surface here.
export { UserError } from './util/errors.js';
export { Rng, fnv1a64, hashUnit } from './util/random.js';
export { writeFileAtomic, writeFileAtomicSync, AtomicWriteStream } from './util/atomic.js';
