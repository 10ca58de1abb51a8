/**
 * Graph → ONNX ModelProto bytes, encoded by protobufjs from the official onnx.proto schema
 * (see proto/). Only nodes that lead to an output are written; inputs and params that no kept
 * node reads are left out, so a session's input list is exactly what a run must feed.
 */
import protobuf from 'protobufjs';
import { onnxSchemaDescriptor } from './proto/onnx-schema.js';
import { ONNX_DATA_TYPE, bytesPerElement, dtypeOfArray, type DType, type HostArray } from './dtype.js';
import { GraphError, type AttrValue, type Graph, type Node, type Tensor } from './graph.js';
import { formatShape, isStatic, numel, type Dim } from './shape.js';

/** The opset every graph is written in (ONNX 1.16); onnxruntime-node 1.30 implements it on CPU. */
export const OPSET = 21;
/** IR version 10 is the first to allow opset 21. */
export const IR_VERSION = 10;

const root = protobuf.Root.fromJSON(onnxSchemaDescriptor);
const ModelProto = root.lookupType('onnx.ModelProto');

/** Param values by name: Float32Array for float32 params, Float64Array for float64. */
export type ParamValues = ReadonlyMap<string, HostArray> | Readonly<Record<string, HostArray>>;

export interface ExportOptions {
  /**
   * 'inputs' (default): params are graph inputs, fed on every run (training graphs).
   * Otherwise the values to bake in as initializers (inference graphs; ORT pre-packs them).
   */
  params?: 'inputs' | ParamValues;
  /** Only these outputs (default: all declared outputs). */
  outputs?: readonly string[];
  docString?: string;
}

export interface ExportedModel {
  bytes: Uint8Array;
  /** Names a run must feed, in model order. */
  inputNames: string[];
  outputNames: string[];
  nodeCount: number;
}

function lookupParam(values: ParamValues, name: string): HostArray | undefined {
  if (values instanceof Map) return values.get(name);
  return (values as Readonly<Record<string, HostArray>>)[name];
}

const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

function encodeAttr(name: string, value: AttrValue): Record<string, unknown> {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new GraphError(`attribute ${name}: ${value} is not an integer; use { float: ${value} }`);
    return { name, type: ATTR_TYPE.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: ATTR_TYPE.INTS, ints: value };
  if ('float' in value) return { name, type: ATTR_TYPE.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: ATTR_TYPE.FLOATS, floats: value.floats };
  if ('tensor' in value)
    return { name, type: ATTR_TYPE.TENSOR, t: tensorProto('', value.tensor.dtype, value.tensor.dims, value.tensor.data) };
  throw new GraphError(`attribute ${name}: unsupported value`);
}

function tensorProto(name: string, dtype: DType, dims: readonly number[], data: HostArray): Record<string, unknown> {
  if (dtypeOfArray(data) !== dtype && !(dtype === 'bool' && data instanceof Uint8Array)) {
    throw new GraphError(`tensor ${name}: ${dtype} tensor given a ${data.constructor.name}`);
  }
  // Raw little-endian bytes, which is how x86/ARM typed arrays already lie in memory.
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.length * bytesPerElement(dtype));
  return { name, dims, data_type: ONNX_DATA_TYPE[dtype], raw_data: raw };
}

function dimProto(dim: Dim, exact: boolean): Record<string, unknown> {
  if (typeof dim === 'number') return { dim_value: dim };
  // Products and sums are our own bookkeeping; ORT only needs plain names on the interface.
  if (exact || /^[A-Za-z_][A-Za-z0-9_]*$/.test(dim)) return { dim_param: dim };
  return {};
}

function valueInfo(name: string, t: Tensor, exact: boolean): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_DATA_TYPE[t.dtype],
        shape: { dim: t.shape.map((d) => dimProto(d, exact && !String(d).includes('?'))) },
      },
    },
  };
}

/** Nodes needed for `outputs`, in build (topological) order. */
export function liveNodes(graph: Graph, outputs: readonly Tensor[]): Node[] {
  const live = new Set<number>();
  const stack: Tensor[] = [...outputs];
  while (stack.length > 0) {
    const t = stack.pop() as Tensor;
    if (t.source.kind !== 'node') continue;
    const node = t.source.node;
    if (live.has(node.id)) continue;
    live.add(node.id);
    for (const input of node.inputs) if (input) stack.push(input);
  }
  return graph.nodes.filter((n) => live.has(n.id));
}

/** Encodes `graph` as an ONNX model. */
export function exportModel(graph: Graph, options: ExportOptions = {}): ExportedModel {
  const wanted = options.outputs ?? graph.outputs.map((o) => o.name);
  const outputs = wanted.map((name) => {
    const found = graph.outputs.find((o) => o.name === name);
    if (!found) throw new GraphError(`export ${graph.name}: no output named ${name}`);
    return found;
  });
  if (outputs.length === 0) throw new GraphError(`export ${graph.name}: the graph has no outputs`);
  const nodes = liveNodes(
    graph,
    outputs.map((o) => o.tensor),
  );
  const used = new Set<Tensor>();
  for (const node of nodes) for (const t of node.inputs) if (t) used.add(t);
  for (const o of outputs) used.add(o.tensor);

  const paramMode = options.params ?? 'inputs';
  const inputs: Record<string, unknown>[] = [];
  const initializers: Record<string, unknown>[] = [];
  const inputNames: string[] = [];
  for (const t of graph.inputs) {
    if (!used.has(t)) continue;
    inputs.push(valueInfo(t.name, t, true));
    inputNames.push(t.name);
  }
  for (const p of graph.params) {
    if (!used.has(p)) continue;
    if (paramMode === 'inputs') {
      inputs.push(valueInfo(p.name, p, true));
      inputNames.push(p.name);
    } else {
      const data = lookupParam(paramMode, p.name);
      if (!data) throw new GraphError(`export ${graph.name}: no value given for param ${p.name}`);
      const size = numel(p.shape) as number;
      if (data.length !== size) {
        throw new GraphError(
          `export ${graph.name}: param ${p.name} has ${data.length} values, shape ${formatShape(p.shape)} needs ${size}`,
        );
      }
      initializers.push(tensorProto(p.name, p.dtype, p.shape as number[], data));
    }
  }
  for (const c of graph.constants) {
    if (!used.has(c) || c.source.kind !== 'constant') continue;
    if (!isStatic(c.shape)) throw new GraphError(`constant ${c.name}: shape ${formatShape(c.shape)} is not numeric`);
    initializers.push(tensorProto(c.name, c.dtype, c.shape, c.source.data));
  }

  const nodeProtos = nodes.map((n) => ({
    name: `${n.scope ? `${n.scope}/` : ''}${n.opType}_${n.id}`,
    op_type: n.opType,
    domain: n.domain,
    input: n.inputs.map((t) => (t ? t.name : '')),
    output: n.outputs.map((t) => t.name),
    attribute: Object.entries(n.attrs).map(([k, v]) => encodeAttr(k, v)),
  }));

  const domains = new Set(nodes.map((n) => n.domain));
  const opsetImport = [{ domain: '', version: OPSET }];
  for (const d of domains) if (d !== '') opsetImport.push({ domain: d, version: 1 });

  const model = {
    ir_version: IR_VERSION,
    producer_name: 'genir',
    opset_import: opsetImport,
    doc_string: options.docString ?? '',
    graph: {
      name: graph.name,
      node: nodeProtos,
      initializer: initializers,
      input: inputs,
      output: outputs.map((o) => valueInfo(o.name, o.tensor, false)),
    },
  };
  // encode() takes the plain object as is; fromObject() would copy every raw_data buffer.
  const bytes = ModelProto.encode(model).finish();
  return { bytes, inputNames, outputNames: outputs.map((o) => o.name), nodeCount: nodes.length };
}

/** A value on a model's interface, or an initializer: name, ONNX element type and dims. */
export interface ModelValueInfo {
  name: string;
  /** TensorProto.DataType number (0 when the model does not say). */
  elemType: number;
  /** A number for a fixed dim, the dim's name for a named one, '' for one with neither. */
  dims: (number | string)[];
}

export interface ModelInterface {
  inputs: ModelValueInfo[];
  outputs: ModelValueInfo[];
  initializers: ModelValueInfo[];
}

interface DecodedDim {
  dim_value?: number | { toNumber(): number };
  dim_param?: string;
}

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DecodedDim[] } } };
}

interface DecodedTensor {
  name?: string;
  data_type?: number;
  dims?: (number | { toNumber(): number })[];
}

interface DecodedModel {
  graph?: { input?: DecodedValueInfo[]; output?: DecodedValueInfo[]; initializer?: DecodedTensor[] };
}

const has = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);
const int64 = (value: number | { toNumber(): number }): number => (typeof value === 'number' ? value : value.toNumber());

/**
 * The inputs, outputs and initializer shapes of ONNX model bytes, without copying tensor
 * data (protobufjs hands out views for bytes fields). Throws protobufjs' own error on bytes
 * that are not a ModelProto, e.g. a truncated file; callers name the file.
 */
export function describeModel(bytes: Uint8Array): ModelInterface {
  const model = ModelProto.decode(bytes) as unknown as DecodedModel;
  const graph = model.graph ?? {};
  const valueInfo = (value: DecodedValueInfo): ModelValueInfo => {
    const tensorType = value.type?.tensor_type;
    const dims = (tensorType?.shape?.dim ?? []).map((dim) =>
      has(dim, 'dim_value') ? int64(dim.dim_value ?? 0) : has(dim, 'dim_param') ? (dim.dim_param ?? '') : '',
    );
    return { name: value.name ?? '', elemType: tensorType?.elem_type ?? 0, dims };
  };
  return {
    inputs: (graph.input ?? []).map(valueInfo),
    outputs: (graph.output ?? []).map(valueInfo),
    initializers: (graph.initializer ?? []).map((t) => ({
      name: t.name ?? '',
      elemType: t.data_type ?? 0,
      dims: (t.dims ?? []).map(int64),
    })),
  };
}

/** Decodes model bytes back to a plain object (tests and debugging). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
