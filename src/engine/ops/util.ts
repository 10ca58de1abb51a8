/** Shared checks and small builders for the op files. */
import { isFloat, type DType } from '../dtype.js';
import { GraphError, graphOf, Tensor, type Attrs, type Graph, type TensorLike } from '../graph.js';
import { broadcastShapes, dimEq, formatShape, isUnknown, resolveAxis, type Shape } from '../shape.js';

export function fail(op: string, message: string): never {
  throw new GraphError(`${op}: ${message}`);
}

export function expectFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) fail(op, `needs a float tensor, got ${t.toString()}`);
}

export function expectDType(op: string, t: Tensor, dtypes: readonly DType[]): void {
  if (!dtypes.includes(t.dtype)) fail(op, `needs ${dtypes.join(' or ')}, got ${t.toString()}`);
}

/** Emits a single-output node. */
export function emit1(g: Graph, opType: string, inputs: readonly (Tensor | null)[], attrs: Attrs, dtype: DType, shape: Shape): Tensor {
  return g.emit(opType, inputs, attrs, [{ dtype, shape }])[0];
}

/** Lifts numbers to scalars of the tensor operand's dtype and checks both dtypes agree. */
export function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, Graph] {
  const g = graphOf(op, a, b);
  const dtype = a instanceof Tensor ? a.dtype : (b as Tensor).dtype;
  const ta = g.lift(a, dtype);
  const tb = g.lift(b, dtype);
  if (ta.dtype !== tb.dtype) fail(op, `dtypes differ: ${ta.toString()} and ${tb.toString()}`);
  return [ta, tb, g];
}

export function broadcastOrFail(op: string, ...shapes: Shape[]): Shape {
  const out = broadcastShapes(shapes);
  if (typeof out === 'string') fail(op, out);
  return out;
}

/** An elementwise op with numpy broadcasting over two operands. */
export function broadcastBinary(op: string, opType: string, a: TensorLike, b: TensorLike, outDtype?: DType): Tensor {
  const [ta, tb, g] = binaryOperands(op, a, b);
  const shape = broadcastOrFail(op, ta.shape, tb.shape);
  return emit1(g, opType, [ta, tb], {}, outDtype ?? ta.dtype, shape);
}

export function unaryFloat(op: string, opType: string, x: Tensor, attrs: Attrs = {}): Tensor {
  expectFloat(op, x);
  return emit1(x.graph, opType, [x], attrs, x.dtype, x.shape);
}

/** int64 constant vector (axes, shapes, starts). */
export function int64s(g: Graph, values: readonly number[]): Tensor {
  return g.constant(values, [values.length], 'int64');
}

export function axisOrFail(op: string, axis: number, rank: number): number {
  const a = resolveAxis(axis, rank);
  if (a === undefined) fail(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function axesOrFail(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => axisOrFail(op, a, rank));
  if (new Set(out).size !== out.length) fail(op, `repeated axis in [${axes.join(', ')}]`);
  return out.sort((x, y) => x - y);
}

/** Static shape equality that lets unknown dims pass. */
export function shapesCompatible(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => isUnknown(d) || isUnknown(b[i]) || dimEq(d, b[i]));
}

export function describe(shape: Shape): string {
  return formatShape(shape);
}
