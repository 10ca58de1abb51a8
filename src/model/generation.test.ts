import assert from 'node:assert/strict';
import { test } from 'node:test';
import { t5Config } from './config.js';
import {
  checkSourceGroups,
  decodeRows,
  emptyDecoderCache,
  encoderInputs,
  expandEncoded,
  selectRows,
  appendPosition,
  StepWorkspace,
  type DecoderCache,
  type EncoderOutput,
  type StepDecoder,
} from './generation.js';

const rowsOf = (values: number[], width: number) => ({ data: Float32Array.from(values), dims: [values.length / width, width] });

test('encoderInputs: each source, then EOS, then padding; the mask covers source and EOS', () => {
  const { inputIds, mask, srcLength } = encoderInputs([[5, 6], [7], []], 0, 1);
  assert.equal(srcLength, 3);
  assert.deepEqual([...inputIds].map(Number), [5, 6, 1, 7, 1, 0, 1, 0, 0]);
  assert.deepEqual([...mask], [1, 1, 1, 1, 1, 0, 1, 0, 0]);
});

test('selectRows takes the first `count` indices, in order, repeats allowed', () => {
  const tensor = rowsOf([0, 1, 10, 11, 20, 21], 2);
  assert.deepEqual(selectRows(tensor, Int32Array.of(2, 0, 2, 1), 3), { data: Float32Array.of(20, 21, 0, 1, 20, 21), dims: [3, 2] });
  assert.deepEqual(selectRows(tensor, [1]), { data: Float32Array.of(10, 11), dims: [1, 2] });
});

test('expandEncoded: the identity is the encoder output itself; other rows copy every tensor, the lexical bias too', () => {
  const encoded: EncoderOutput = {
    batch: 2,
    srcLength: 1,
    attentionMask: rowsOf([1, 1], 1),
    crossKeys: [rowsOf([1, 2], 1)],
    crossValues: [rowsOf([3, 4], 1)],
    lexicalBias: rowsOf([5, 6], 1),
  };
  assert.equal(expandEncoded(encoded, [0, 1]), encoded);
  assert.equal(expandEncoded(encoded, Int32Array.of(0, 1, 7), 2), encoded);
  const expanded = expandEncoded(encoded, [1, 1, 0]);
  assert.equal(expanded.batch, 3);
  assert.deepEqual([...expanded.crossKeys[0].data], [2, 2, 1]);
  assert.deepEqual([...expanded.crossValues[0].data], [4, 4, 3]);
  assert.deepEqual([...expanded.lexicalBias!.data], [6, 6, 5]);
});

test('decodeRows: a row stops at EOS and is fed EOS afterwards; the others go on to maxTokens', async () => {
  const config = t5Config('tiny', { vocabSize: 8, docidVocabSize: 0, numDecoderLayers: 1 });
  const fed: number[][] = [];
  const decoder: StepDecoder = {
    config,
    encode: () => Promise.reject(new Error('not used')),
    emptyCache: (batch) => emptyDecoderCache(config, batch),
    decoderStep: (_encoded, cache, tokens) => {
      fed.push([...tokens].map(Number));
      return Promise.resolve({ logProbs: new Float32Array(tokens.length * 8), cache: { ...cache, length: cache.length + 1 } });
    },
  };
  const encoded: EncoderOutput = { batch: 2, srcLength: 1, attentionMask: rowsOf([1, 1], 1), crossKeys: [], crossValues: [] };
  // Row 0 writes 4 then EOS; row 1 writes 5, 6, 7.
  const script = [
    [4, config.eosTokenId, 3],
    [5, 6, 7],
  ];
  const offsets: number[] = [];
  const generated = await decodeRows(decoder, encoded, 3, (_logProbs, offset, row) => {
    offsets.push(offset);
    return script[row][fed.length - 1];
  });
  assert.deepEqual(generated, [[4], [5, 6, 7]]);
  assert.deepEqual(fed, [
    [config.decoderStartTokenId, config.decoderStartTokenId],
    [4, 5],
    [config.eosTokenId, 6],
  ]);
  assert.deepEqual(offsets, [0, 8, 0, 8, 8]);
});

test('checkSourceGroups: rows must group evenly over the encoder rows', () => {
  for (const [sources, rows] of [
    [1, 7],
    [2, 6],
    [6, 6],
  ])
    assert.doesNotThrow(() => checkSourceGroups(sources, rows));
  assert.throws(() => checkSourceGroups(3, 7), /decoderStep: 7 rows cannot be grouped evenly over an encoder batch of 3/);
  assert.throws(() => checkSourceGroups(4, 2), /2 rows cannot be grouped evenly over an encoder batch of 4/);
});

test("appendPosition puts each row-and-head block's new position after its past ones", () => {
  // rows 2, heads 1, past 2 positions of width 2; new position per row.
  const past = { data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), dims: [2, 1, 2, 2] };
  const newest = { data: Float32Array.from([9, 10, 11, 12]), dims: [2, 1, 1, 2] };
  const grown = appendPosition(past, newest);
  assert.deepEqual(grown.dims, [2, 1, 3, 2]);
  assert.deepEqual([...grown.data], [1, 2, 3, 4, 9, 10, 5, 6, 7, 8, 11, 12]);
  const empty = appendPosition({ data: new Float32Array(0), dims: [2, 1, 0, 2] }, newest, new Float32Array(4));
  assert.deepEqual([...empty.data], [9, 10, 11, 12]);
  assert.throws(() => appendPosition(past, newest, new Float32Array(5)), /expected 12/);
  // Rows reordered (and repeated) in the same copy, as beam search keeps its hypotheses.
  const reordered = appendPosition(past, newest, undefined, [1, 1, 0]);
  assert.deepEqual(reordered.dims, [3, 1, 3, 2]);
  assert.deepEqual([...reordered.data], [5, 6, 7, 8, 11, 12, 5, 6, 7, 8, 11, 12, 1, 2, 3, 4, 9, 10]);
});

test('StepWorkspace: columns are deduplicated and mapped; caches alternate between two buffers', () => {
  const workspace = new StepWorkspace(10);
  assert.equal(workspace.columns(), undefined, 'no columns asked for: the whole vocabulary');
  workspace.clearColumns();
  for (const token of [7, 3, 7, 9, 3]) workspace.addColumn(token);
  const columns = workspace.columns()!;
  assert.deepEqual([...columns.tokens.subarray(0, columns.count)], [7, 3, 9]);
  assert.deepEqual([columns.of[7], columns.of[3], columns.of[9]], [0, 1, 2]);
  workspace.clearColumns();
  workspace.addColumn(3);
  assert.equal(workspace.columns()!.count, 1);
  assert.equal(workspace.columns()!.of[3], 0);

  const inSlot0: DecoderCache = { ...emptyDecoderCache(t5Config('tiny'), 2), slot: 0 };
  assert.equal(StepWorkspace.outputSlot(inSlot0), 1, 'a step writes into the buffer its input is not in');
  assert.equal(StepWorkspace.outputSlot({ ...inSlot0, slot: 1 }), 0);
  assert.equal(StepWorkspace.outputSlot(emptyDecoderCache(t5Config('tiny'), 2)), 0);
});
