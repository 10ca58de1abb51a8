import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, GraphError } from './graph.js';
import { decodeModel, exportModel, IR_VERSION, OPSET } from './onnx.js';
import { add, matmul, mul, tanh } from './ops/index.js';
import { Session } from './runtime.js';
import { numbers } from './testing.js';

interface DecodedGraph {
  node: { op_type: string; name: string }[];
  input: { name: string }[];
  output: { name: string }[];
  initializer?: { name: string; dims: number[]; raw_data: number[] }[];
}

function build(): Graph {
  const g = new Graph('export-test');
  const x = g.input('x', 'float32', ['batch', 2]);
  g.input('unused', 'float32', [3]);
  const w = g.param('w', [2, 2]);
  const dead = g.param('dead', [2]);
  g.scope('block0', () => tanh(add(x, dead))); // built but never output
  g.output('y', mul(matmul(x, w), 2));
  return g;
}

test('exportModel: standard ModelProto with opset, pruned nodes and inputs', () => {
  const model = exportModel(build());
  const decoded = decodeModel(model.bytes) as { ir_version: number; opset_import: { version: number }[]; graph: DecodedGraph };
  assert.equal(decoded.ir_version, IR_VERSION);
  assert.equal(decoded.opset_import[0].version, OPSET);
  assert.deepEqual(
    decoded.graph.node.map((n) => n.op_type),
    ['MatMul', 'Mul'],
  );
  assert.deepEqual(model.inputNames, ['x', 'w']);
  assert.deepEqual(
    decoded.graph.output.map((o) => o.name),
    ['y'],
  );
});

test('exportModel: params become initializers when values are given, and ORT runs both forms alike', async () => {
  const g = build();
  const w = Float32Array.from([1, 2, 3, 4]);
  const training = await Session.create(exportModel(g), { threads: 1 });
  const inference = await Session.create(exportModel(g, { params: { w } }), { threads: 1 });
  assert.deepEqual(inference.inputNames, ['x']);
  const x = { data: Float32Array.from([1, 1, 0, 1]), dims: [2, 2] };
  const a = await training.run({ x, w: { data: w, dims: [2, 2] } });
  const b = await inference.run({ x });
  assert.deepEqual(numbers(a.y), [8, 12, 6, 8]);
  assert.deepEqual(numbers(b.y), numbers(a.y));
  assert.throws(() => exportModel(g, { params: new Map() }), /no value given for param w/);
  assert.throws(() => exportModel(g, { params: { w: new Float32Array(3) } }), /param w has 3 values, shape \[2, 2\] needs 4/);
  await training.release();
  await inference.release();
});

test('graph: names are checked, outputs may repeat tensors and inputs', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2]);
  assert.throws(() => g.input('x', 'float32', [2]), GraphError);
  assert.throws(() => g.param('t5', [1]), /reserved/);
  const y = add(x, 1);
  g.output('y', y);
  g.output('y_again', y);
  g.output('x_echo', x);
  assert.throws(() => g.output('y', y), /declared twice/);
  const session = await Session.create(exportModel(g), { threads: 1 });
  const out = await session.run({ x: { data: Float32Array.from([1, 2]), dims: [2] } });
  assert.deepEqual(numbers(out.y_again), [2, 3]);
  assert.deepEqual(numbers(out.x_echo), [1, 2]);
  await session.release();
});

test('graph: tensors of two graphs cannot be mixed', () => {
  const a = new Graph('a');
  const b = new Graph('b');
  assert.throws(() => add(a.input('x', 'float32', [1]), b.input('y', 'float32', [1])), /add: operands come from different graphs/);
});
