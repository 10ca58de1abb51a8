import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { emit1, fail } from './util.js';

/** Permutes axes; the default reverses them. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  const sorted = [...p].sort((a, b) => a - b);
  if (p.length !== x.rank || sorted.some((v, i) => v !== i))
    fail('transpose', `perm [${p.join(', ')}] is not a permutation of the ${x.rank} axes of ${x.toString()}`);
  if (p.every((v, i) => v === i)) return x;
  return emit1(
    x.graph,
    'Transpose',
    [x],
    { perm: p },
    x.dtype,
    p.map((i) => x.shape[i]),
  );
}

/** Swaps the last two axes (matrix transpose of a batch of matrices). */
export function transposeLast2(x: Tensor): Tensor {
  if (x.rank < 2) fail('transposeLast2', `needs rank ≥ 2, got ${x.toString()}`);
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

registerGradient('Transpose', ({ node, outputGrads: [dy] }) => {
  const perm = node.attrs.perm as readonly number[];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return [transpose(dy as Tensor, inverse)];
});
