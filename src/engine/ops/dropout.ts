import { Tensor } from '../graph.js';
import { registerNonDifferentiable } from '../registry.js';
import { mul } from './mul.js';
import { reshape } from './reshape.js';
import { shapeOf } from './shape-of.js';
import { emit1, expectDType, expectFloat, fail } from './util.js';
import { where } from './where.js';
import { cast } from './cast.js';

/**
 * Inverted dropout whose mask is a pure function of (seed, salt, element index): a murmur3
 * finalizer over uint32 counters, built from standard integer ops. The same seed gives the same
 * mask in any session, so a resumed run replays exactly; ORT's Dropout/RandomUniformLike keep
 * generator state inside the session and could not be replayed. Feed a fresh `seed` (uint32
 * scalar input) each step and give every dropout site its own `salt`.
 */
export function dropout(x: Tensor, rate: number, seed: Tensor, salt: number): Tensor {
  expectFloat('dropout', x);
  expectDType('dropout', seed, ['uint32']);
  if (seed.rank !== 0) fail('dropout', `seed must be a uint32 scalar, got ${seed.toString()}`);
  if (!(rate >= 0 && rate < 1)) fail('dropout', `rate ${rate} is not in [0, 1)`);
  if (rate === 0) return x;
  return mul(where(keepMask(x, rate, seed, salt), x, 0), 1 / (1 - rate));
}

/**
 * true with probability 1 - rate per element: h = counter + mix(seed, salt), then multiply,
 * xor-shift, multiply (the multipliers of Wellons' lowbias32), compared on all 32 bits.
 * (An add-shift instead of the xor-shift is cheaper in ORT but visibly correlates neighbours:
 * the dropout test checks the rate of adjacent pairs dropped together.)
 * The counters 0..n-1 are built once per static shape and shared by every site of that shape.
 */
export function keepMask(x: Tensor, rate: number, seed: Tensor, salt: number): Tensor {
  const g = x.graph;
  const u32 = (v: number): Tensor => g.scalar(v >>> 0, 'uint32');
  const counter = g.memo(`dropout-counter:${x.shape.join(',')}`, () => {
    // int32 counters (ORT has no uint32 Range): half the bytes of int64 for the Range and the Cast.
    const size = cast(emit1(g, 'Size', [x], {}, 'int64', []), 'int32');
    const flat = cast(emit1(g, 'Range', [g.scalar(0, 'int32'), size, g.scalar(1, 'int32')], {}, 'int32', ['?dropout']), 'uint32');
    return reshape(flat, shapeOf(x), x.shape);
  });
  const base = emit1(
    g,
    'Add',
    [emit1(g, 'Mul', [seed, u32(0x9e3779b9)], {}, 'uint32', []), u32(Math.imul(salt + 1, 0x85ebca6b))],
    {},
    'uint32',
    [],
  );
  let h = emit1(g, 'Add', [counter, base], {}, 'uint32', x.shape);
  h = emit1(g, 'Mul', [h, u32(0x7feb352d)], {}, 'uint32', x.shape);
  h = emit1(g, 'BitwiseXor', [h, emit1(g, 'BitShift', [h, u32(15)], { direction: 'RIGHT' }, 'uint32', x.shape)], {}, 'uint32', x.shape);
  h = emit1(g, 'Mul', [h, u32(0x846ca68b)], {}, 'uint32', x.shape);
  const threshold = Math.min(Math.round((1 - rate) * 2 ** 32), 2 ** 32 - 1);
  return emit1(g, 'Less', [h, u32(threshold)], {}, 'bool', x.shape);
}

registerNonDifferentiable('Size');
registerNonDifferentiable('BitShift');
registerNonDifferentiable('BitwiseXor');
