import { Tensor } from '../graph.js';
import { registerGradient } from '../registry.js';
import { unknownDim, type Dim } from '../shape.js';
import { concat } from './concat.js';
import { axisOrFail, emit1, fail, int64s } from './util.js';

/** Largest int64 ONNX accepts as "to the end". */
const TO_END = Number.MAX_SAFE_INTEGER;

function sliceLength(dim: Dim, start: number, end: number, step: number): Dim {
  if (typeof dim !== 'number') {
    if (start === 0 && end >= TO_END && step === 1) return dim;
    return unknownDim();
  }
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const s = step > 0 ? clamp(start < 0 ? start + dim : start, 0, dim) : clamp(start < 0 ? start + dim : start, -1, dim - 1);
  const e = step > 0 ? clamp(end < 0 ? end + dim : end, 0, dim) : clamp(end < 0 ? end + dim : end, -1, dim - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

/**
 * x[start:end:step] along one axis, numpy-style (negative positions count from the end,
 * `end` defaults to the end of the axis).
 */
export function slice(x: Tensor, axis: number, start: number, end = TO_END, step = 1): Tensor {
  const a = axisOrFail('slice', axis, x.rank);
  if (step === 0 || !Number.isInteger(step)) fail('slice', `invalid step ${step}`);
  if (!Number.isInteger(start) || !(Number.isInteger(end) || end === TO_END))
    fail('slice', `positions must be integers, got ${start}:${end}`);
  const g = x.graph;
  const shape = x.shape.map((d, i) => (i === a ? sliceLength(d, start, Math.min(end, TO_END), step) : d));
  return emit1(
    g,
    'Slice',
    [x, int64s(g, [start]), int64s(g, [Math.min(end, TO_END)]), int64s(g, [a]), int64s(g, [step])],
    {},
    x.dtype,
    shape,
  );
}

function constantScalar(t: Tensor | null): number {
  if (!t || t.source.kind !== 'constant') throw new Error('Slice gradient: starts/ends/axes/steps must be constants');
  return Number((t.source.data as BigInt64Array)[0]);
}

/**
 * The gradient pads dy back with zeros: before = the clamped start, after = size - clamped end,
 * computed from numbers when the axis size is known and with int64 ops on Shape(x) when not.
 */
registerGradient('Slice', ({ node, outputGrads: [dy] }) => {
  const x = node.inputs[0] as Tensor;
  const [start, end, axis, step] = node.inputs.slice(1, 5).map(constantScalar);
  if (step !== 1) throw new Error('Slice gradient: only step 1 is differentiable');
  const g = x.graph;
  const dim = x.shape[axis];
  let before: Tensor;
  let after: Tensor;
  if (typeof dim === 'number') {
    const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim);
    const e = Math.max(Math.min(Math.max(end < 0 ? end + dim : end, 0), dim), s);
    before = int64s(g, [s]);
    after = int64s(g, [dim - e]);
  } else {
    const size = g.shapeSlice(x, axis);
    const position = (p: number): Tensor => {
      const raw = p < 0 ? emit1(g, 'Add', [size, int64s(g, [p])], {}, 'int64', [1]) : int64s(g, [p]);
      const low = emit1(g, 'Max', [raw, int64s(g, [0])], {}, 'int64', [1]);
      return emit1(g, 'Min', [low, size], {}, 'int64', [1]);
    };
    before = position(start);
    const e = emit1(g, 'Max', [position(Math.min(end, TO_END)), before], {}, 'int64', [1]);
    after = emit1(g, 'Sub', [size, e], {}, 'int64', [1]);
  }
  const zeros = (n: number): Tensor[] => (n > 0 ? [int64s(g, new Array<number>(n).fill(0))] : []);
  const pads = concat([...zeros(axis), before, ...zeros(x.rank - axis - 1), ...zeros(axis), after, ...zeros(x.rank - axis - 1)], 0);
  return [emit1(g, 'Pad', [dy as Tensor, pads], { mode: 'constant' }, x.dtype, x.shape), null, null, null, null];
});
