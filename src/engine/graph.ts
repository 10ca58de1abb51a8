/**
 * The graph builder: symbolic tensors with a dtype and a (partly symbolic) shape, and nodes
 * that are standard ONNX operators. Ops (in ./ops) check shapes when they are built and throw
 * a GraphError naming the op, so a model with mismatched dims fails before ORT ever sees it.
 */
import { allocate, fromNumbers, isFloat, type DType, type HostArray } from './dtype.js';
import { formatShape, isUnknown, normalizeDim, numel, type Dim, type Shape } from './shape.js';

/** A mistake in how a graph is built (shape or dtype mismatch, unknown name). */
export class GraphError extends Error {
  override readonly name = 'GraphError';
}

/** Attribute values: integers are INT, `{ float }` is FLOAT, arrays of integers are INTS. */
export type AttrValue =
  | number
  | string
  | readonly number[]
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly tensor: { dtype: DType; dims: readonly number[]; data: HostArray } };

export type Attrs = Record<string, AttrValue>;

export type TensorSource =
  { kind: 'input' } | { kind: 'param' } | { kind: 'constant'; data: HostArray } | { kind: 'node'; node: Node; index: number };

export interface Node {
  readonly id: number;
  readonly opType: string;
  readonly domain: string;
  /** null stands for an omitted optional input. */
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
  /** Scope path at build time, for readable node names in ORT errors and profiles. */
  readonly scope: string;
}

export class Tensor {
  /** @internal use the Graph and op functions to make tensors. */
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly source: TensorSource,
    /** The ONNX value name: the given name for inputs, params and named outputs, else `t<id>`. */
    public name: string,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** The node that computes this tensor, or undefined for inputs, params and constants. */
  get producer(): Node | undefined {
    return this.source.kind === 'node' ? this.source.node : undefined;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

/** A tensor or a plain number, which becomes a scalar constant of the other operand's dtype. */
export type TensorLike = Tensor | number;

export interface OutputSpec {
  dtype: DType;
  shape: Shape;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params: Tensor[] = [];
  readonly constants: Tensor[] = [];
  readonly outputs: { name: string; tensor: Tensor }[] = [];
  private nextId = 0;
  private readonly names = new Set<string>();
  private readonly scopes: string[] = [];
  private readonly scalarCache = new Map<string, Tensor>();
  private readonly dimSources = new Map<string, { tensor: Tensor; axis: number }>();
  private readonly dimTensors = new Map<string, Tensor>();
  private readonly memos = new Map<string, Tensor>();

  constructor(readonly name = 'genir') {}

  /** A runtime input (token ids, masks, labels) with named dims for what varies per call. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    const t = this.makeLeaf(name, dtype, shape, { kind: 'input' });
    this.inputs.push(t);
    return t;
  }

  /**
   * A learned parameter: a graph input while training (so the optimizer can update it in place
   * between steps), an initializer in exported inference graphs. Shapes are fully numeric.
   */
  param(name: string, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    // int8 params are quantized weights, which only inference graphs (weights baked in) hold.
    if (!isFloat(dtype) && dtype !== 'int8') throw new GraphError(`param ${name}: dtype ${dtype} is neither a float type nor int8`);
    const t = this.makeLeaf(name, dtype, shape, { kind: 'param' });
    this.params.push(t);
    return t;
  }

  /** A constant tensor, stored in the model as an initializer. */
  constant(values: readonly number[] | HostArray, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const data = Array.isArray(values) ? fromNumbers(dtype, values as readonly number[]) : (values as HostArray);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new GraphError(`constant: ${data.length} values for shape ${formatShape(shape)} (${size} elements)`);
    }
    const id = this.nextId++;
    const t = new Tensor(this, id, dtype, shape, { kind: 'constant', data }, `c${id}`);
    this.constants.push(t);
    return t;
  }

  /** A scalar constant (rank 0), shared between uses of the same value and dtype. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let t = this.scalarCache.get(key);
    if (t === undefined) {
      t = this.constant(fromNumbers(dtype, [value]), [], dtype);
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** A zero-filled constant. */
  zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return this.constant(
      allocate(
        dtype,
        shape.reduce((a, b) => a * b, 1),
      ),
      shape,
      dtype,
    );
  }

  /**
   * Marks `tensor` as a graph output called `name`. A tensor may be output under several names
   * and inputs may be outputs too; an Identity node is added where ONNX needs a distinct value.
   */
  output(name: string, tensor: Tensor): void {
    this.checkOwn(tensor, `output ${name}`);
    if (this.outputs.some((o) => o.name === name)) throw new GraphError(`output ${name}: declared twice`);
    let target = tensor;
    const alreadyNamed = tensor.source.kind !== 'node' || this.outputs.some((o) => o.tensor === tensor);
    if (alreadyNamed || this.names.has(name)) {
      if (this.names.has(name)) throw new GraphError(`output ${name}: name already used by an input or param`);
      [target] = this.emit('Identity', [tensor], {}, [{ dtype: tensor.dtype, shape: tensor.shape }]);
    }
    target.name = name;
    this.names.add(name);
    this.outputs.push({ name, tensor: target });
  }

  /** Runs `build` with node names prefixed by `name/` (nested scopes join with `/`). */
  scope<T>(name: string, build: () => T): T {
    this.scopes.push(name);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  /** Wraps a number as a scalar constant of `dtype`; returns tensors unchanged. */
  lift(value: TensorLike, dtype: DType): Tensor {
    if (typeof value === 'number') return this.scalar(value, dtype);
    this.checkOwn(value, 'operand');
    return value;
  }

  /**
   * Appends one ONNX node. Ops call this after checking shapes; outputs get the given static
   * dtype and shape. Named dims first seen on an output are remembered so `dimTensor` can
   * read them back at run time.
   */
  emit(opType: string, inputs: readonly (Tensor | null)[], attrs: Attrs, outputs: readonly OutputSpec[], domain = ''): Tensor[] {
    for (const t of inputs) if (t !== null) this.checkOwn(t, opType);
    const id = this.nextId++;
    const outTensors: Tensor[] = [];
    const node: Node = { id, opType, domain, inputs, outputs: outTensors, attrs, scope: this.scopes.join('/') };
    outputs.forEach((spec, index) => {
      const tid = this.nextId++;
      const shape = spec.shape.map(normalizeDim);
      const t = new Tensor(this, tid, spec.dtype, shape, { kind: 'node', node, index }, `t${tid}`);
      this.noteDims(t);
      outTensors.push(t);
    });
    this.nodes.push(node);
    return outTensors;
  }

  /**
   * The run-time value of a dim as an int64 tensor of shape [1]: a constant for numbers, the
   * matching entry of Shape(x) for a name (taken from the first input or output that carried
   * it), and products of those for `a*b`. Used by reshape/expand targets with named dims.
   */
  dimTensor(dim: Dim): Tensor {
    const key = String(normalizeDim(dim));
    const cached = this.dimTensors.get(key);
    if (cached) return cached;
    let result: Tensor;
    const source = this.dimSources.get(key);
    if (typeof dim === 'number') {
      result = this.constant([dim], [1], 'int64');
    } else if (source) {
      [result] = this.emit('Shape', [source.tensor], { start: source.axis, end: source.axis + 1 }, [{ dtype: 'int64', shape: [1] }]);
    } else {
      const factors = key.split('*');
      if (factors.length === 1) {
        throw new GraphError(`dim ${key}: no input or computed tensor carries this dim, so its run-time size is unknown`);
      }
      result = this.dimTensor(factors[0]);
      for (const f of factors.slice(1)) {
        const next = /^\d+$/.test(f) ? this.constant([Number(f)], [1], 'int64') : this.dimTensor(f);
        [result] = this.emit('Mul', [result, next], {}, [{ dtype: 'int64', shape: [1] }]);
      }
    }
    this.dimTensors.set(key, result);
    return result;
  }

  /**
   * The tensor built by `build` the first time `key` is asked for, the same tensor afterwards:
   * lets ops share pure helpers (dropout's element counters per shape) across call sites.
   */
  memo(key: string, build: () => Tensor): Tensor {
    let t = this.memos.get(key);
    if (t === undefined) {
      t = build();
      this.memos.set(key, t);
    }
    return t;
  }

  /** Shape(x) as an int64 [rank] tensor. */
  shapeTensor(x: Tensor): Tensor {
    return this.emit('Shape', [x], {}, [{ dtype: 'int64', shape: [x.rank] }])[0];
  }

  /** The run-time size of one axis of x, as an int64 [1] tensor (Shape with start/end). */
  shapeSlice(x: Tensor, axis: number): Tensor {
    return this.emit('Shape', [x], { start: axis, end: axis + 1 }, [{ dtype: 'int64', shape: [1] }])[0];
  }

  /** Total number of scalars in all params. */
  paramCount(): number {
    return this.params.reduce((sum, p) => sum + (numel(p.shape) as number), 0);
  }

  private makeLeaf(name: string, dtype: DType, shape: Shape, source: TensorSource): Tensor {
    if (this.names.has(name)) throw new GraphError(`${source.kind} ${name}: name already used in graph ${this.name}`);
    if (/^[tc]\d+$/.test(name)) throw new GraphError(`${source.kind} ${name}: names t<n> and c<n> are reserved for internal values`);
    this.names.add(name);
    const t = new Tensor(this, this.nextId++, dtype, shape.map(normalizeDim), source, name);
    this.noteDims(t);
    return t;
  }

  private noteDims(t: Tensor): void {
    t.shape.forEach((dim, axis) => {
      if (typeof dim === 'string' && !isUnknown(dim) && !this.dimSources.has(dim)) this.dimSources.set(dim, { tensor: t, axis });
    });
  }

  private checkOwn(t: Tensor, what: string): void {
    if (!(t instanceof Tensor)) throw new GraphError(`${what}: expected a Tensor, got ${typeof t}`);
    if (t.graph !== this) throw new GraphError(`${what}: tensor ${t.name} belongs to graph ${t.graph.name}, not ${this.name}`);
  }
}

/** The graph shared by the given operands (numbers have none). */
export function graphOf(op: string, ...values: (TensorLike | null | undefined)[]): Graph {
  let graph: Graph | undefined;
  for (const v of values) {
    if (v instanceof Tensor) {
      if (graph && v.graph !== graph) throw new GraphError(`${op}: operands come from different graphs (${graph.name}, ${v.graph.name})`);
      graph = v.graph;
    }
  }
  if (!graph) throw new GraphError(`${op}: at least one operand must be a Tensor`);
  return graph;
}
