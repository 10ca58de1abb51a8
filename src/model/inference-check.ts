/**
 * Checks that ONNX inference graph bytes (a model directory's onnx/encoder.onnx and
 * onnx/decoder_step.onnx) were exported for a given T5 config: the same inputs and outputs
 * with the same element types and fixed dims (vocabulary, d_model, heads, layer count) and the
 * same weights with the same shapes (which also covers the encoder's layer count, invisible
 * at the graph's interface). A graph from another model would otherwise load and rank wrong.
 */
import { describeModel, liveNodes, type Graph, type ModelInterface, type ModelValueInfo, type Tensor } from '../engine/index.js';
import { ONNX_DATA_TYPE } from '../engine/dtype.js';
import type { Dim } from '../engine/shape.js';
import { UserError } from '../util/errors.js';
import { CONFIG_FILE } from './checkpoint.js';
import type { T5Config } from './config.js';
import { buildDecoderStepGraph, buildEncoderGraph } from './t5-graph.js';

export type InferenceGraphKind = 'encoder' | 'decoderStep';

interface ExpectedValue {
  elemType: number;
  dims: readonly Dim[];
}

/** What an exported graph of `graph` holds: the inputs and params its outputs read, and the outputs. */
function expectedInterface(graph: Graph): {
  inputs: Map<string, ExpectedValue>;
  outputs: Map<string, ExpectedValue>;
  params: Map<string, ExpectedValue>;
} {
  const used = new Set<Tensor>();
  for (const node of liveNodes(
    graph,
    graph.outputs.map((o) => o.tensor),
  ))
    for (const t of node.inputs) if (t) used.add(t);
  const describe = (t: Tensor): ExpectedValue => ({ elemType: ONNX_DATA_TYPE[t.dtype], dims: t.shape });
  return {
    inputs: new Map(graph.inputs.filter((t) => used.has(t)).map((t) => [t.name, describe(t)])),
    outputs: new Map(graph.outputs.map((o) => [o.name, describe(o.tensor)])),
    params: new Map(graph.params.filter((t) => used.has(t)).map((t) => [t.name, describe(t)])),
  };
}

function formatDims(dims: readonly (number | string)[]): string {
  return `[${dims.map((d) => (d === '' ? '?' : String(d))).join(', ')}]`;
}

/**
 * The first difference between an actual value and the expected one, or undefined. A fixed
 * expected dim must be the same number; a named one may carry any name (or none), since it
 * varies per call.
 */
function valueDifference(what: string, actual: ModelValueInfo, expected: ExpectedValue): string | undefined {
  const dimsDiffer =
    actual.dims.length !== expected.dims.length ||
    expected.dims.some((dim, i) => (typeof dim === 'number' ? actual.dims[i] !== dim : typeof actual.dims[i] === 'number'));
  if (dimsDiffer) return `${what} is ${formatDims(actual.dims)}, the config needs ${formatDims(expected.dims.map(String))}`;
  if (actual.elemType !== 0 && actual.elemType !== expected.elemType)
    return `${what} has element type ${actual.elemType}, the config needs ${expected.elemType}`;
  return undefined;
}

function setDifference(
  kind: string,
  actual: ReadonlyMap<string, ModelValueInfo>,
  expected: ReadonlyMap<string, ExpectedValue>,
): string | undefined {
  for (const [name, value] of expected) {
    const found = actual.get(name);
    if (found === undefined) return `${kind} ${name} is missing`;
    const difference = valueDifference(`${kind} ${name}`, found, value);
    if (difference !== undefined) return difference;
  }
  for (const name of actual.keys()) if (!expected.has(name)) return `unexpected ${kind} ${name}`;
  return undefined;
}

/**
 * Throws a UserError naming `file` when `bytes` is not a readable ONNX model or was not
 * exported for `config` by genir's inference graph builders; returns the graph's interface.
 */
export function checkInferenceGraph(
  kind: InferenceGraphKind,
  bytes: Uint8Array,
  config: T5Config,
  file: string,
  configFile: string = CONFIG_FILE,
): ModelInterface {
  let actual;
  try {
    actual = describeModel(bytes);
  } catch (err) {
    throw new UserError(`${file}: not a readable ONNX model (truncated or corrupt: ${err instanceof Error ? err.message : String(err)})`);
  }
  // Decoder steps exported since 2026-12-07 (session 10) return asked-for columns and the new
  // cache position (`compactOutputs`); older ones the whole vocabulary and cache. Both load.
  const compactOutputs = actual.inputs.some((input) => input.name === 'output_columns');
  const graph =
    kind === 'encoder'
      ? buildEncoderGraph(config, { fuseForInference: true })
      : buildDecoderStepGraph(config, { fuseForInference: true, compactOutputs });
  const expected = expectedInterface(graph);
  const byName = (values: ModelValueInfo[]) => new Map(values.map((v) => [v.name, v]));
  const difference =
    setDifference('output', byName(actual.outputs), expected.outputs) ??
    setDifference('input', byName(actual.inputs), expected.inputs) ??
    // Constants are initializers too, under generated names; only weights are compared.
    setDifference('weight', byName(actual.initializers.filter((t) => !/^c\d+$/.test(t.name))), expected.params);
  if (difference !== undefined) {
    throw new UserError(`${file}: does not match ${configFile}: ${difference}; the graph was exported for another model`);
  }
  return actual;
}
