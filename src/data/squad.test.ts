import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUESTION_SPLIT_SEED, SquadDataset, questionSplit, readSquadJson } from './squad.js';
import { hashUnit } from '../util/random.js';
import { UserError } from '../util/errors.js';
import { collect } from './testdata/files.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const tmp = mkdtempSync(join(tmpdir(), 'genir-squad-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const tiny = {
  version: '1.1',
  data: [
    {
      title: 'Super_Bowl_50',
      paragraphs: [
        {
          context: 'P one.',
          qas: [
            { id: 'a1', question: 'Q a1?' },
            { id: 'a2', question: 'Q a2?' },
          ],
        },
        { context: 'P two.', qas: [{ id: 'a3', question: 'Q a3?' }] },
      ],
    },
    { title: 'Warsaw', paragraphs: [{ context: 'P three.', qas: [] }] },
  ],
};

test('questionSplit follows hashUnit(QUESTION_SPLIT_SEED, id) with cut points 0.7 and 0.8', () => {
  for (const id of ['a1', 'a2', 'a3', '56be4db0acb8001400a502ec', 'x']) {
    const u = hashUnit(QUESTION_SPLIT_SEED, id);
    const expected = u < 0.7 ? 'train' : u < 0.8 ? 'dev' : 'test';
    assert.equal(questionSplit(id), expected);
  }
  // Fixed for ever: a change here silently moves questions between train and test.
  assert.equal(QUESTION_SPLIT_SEED, 2016);
});

test('SQuAD JSON as passage retrieval: paragraph ids, titles, one relevant paragraph per question', async () => {
  const path = join(tmp, 'tiny.json');
  writeFileSync(path, JSON.stringify(tiny));
  const dataset = SquadDataset.forFile(path);
  assert.deepEqual(await collect(dataset.docs()), [
    { id: '0_0', title: 'Super Bowl 50', text: 'P one.' },
    { id: '0_1', title: 'Super Bowl 50', text: 'P two.' },
    { id: '1_0', title: 'Warsaw', text: 'P three.' },
  ]);
  const byId = new Map<string, { split: string; doc: string }>();
  for (const split of dataset.splits) {
    const queries = await dataset.queries(split);
    const qrels = await dataset.qrels(split);
    assert.equal(queries.length, qrels.size);
    for (const query of queries) {
      assert.equal(questionSplit(query.id), split);
      const judged = [...qrels.get(query.id)!];
      assert.equal(judged.length, 1);
      byId.set(query.id, { split, doc: judged[0][0] });
    }
  }
  assert.deepEqual([...byId.keys()].sort(), ['a1', 'a2', 'a3']);
  assert.equal(byId.get('a3')?.doc, '0_1');
  assert.equal(byId.get('a1')?.doc, '0_0');
});

test('malformed SQuAD JSON → file:line; bad structure → file and place', async () => {
  const path = join(tmp, 'bad.json');
  writeFileSync(path, '{\n  "data": [\n    {"title": "x",\n     "paragraphs": [}\n  ]\n}\n');
  await assert.rejects(readSquadJson(path), (err: Error) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /bad\.json:4:21: malformed JSON \(unexpected "}"\)$/);
    return true;
  });
  writeFileSync(path, JSON.stringify({ data: [{ title: 't', paragraphs: [{ context: 'c', qas: [{ id: 'q', question: 7 }] }] }] }));
  await assert.rejects(readSquadJson(path), /bad\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]: "question" must be a string/);
  writeFileSync(
    path,
    JSON.stringify({
      data: [
        {
          title: 't',
          paragraphs: [
            {
              context: 'c',
              qas: [
                { id: 'q', question: 'a' },
                { id: 'q', question: 'b' },
              ],
            },
          ],
        },
      ],
    }),
  );
  await assert.rejects(readSquadJson(path), /qas\[1\]: duplicate question id 'q'/);
  writeFileSync(path, JSON.stringify({ data: [] }));
  await assert.rejects(readSquadJson(path), /empty corpus/);
  writeFileSync(path, JSON.stringify({ version: '1.1' }));
  await assert.rejects(readSquadJson(path), /not SQuAD JSON/);
});

test('squad-dev from GENIR_DATA_DIR: 2,067 docs, 10,570 questions split 70/10/20', { skip: needsData }, async () => {
  const dataset = new SquadDataset('squad-dev', join(DATA_DIR as string, 'squad-v1.1-dev', 'dev-v1.1.json'));
  const docs = await collect(dataset.docs());
  assert.equal(docs.length, 2067);
  assert.deepEqual(docs[0].id, '0_0');
  assert.equal(docs[0].title, 'Super Bowl 50');
  const counts: Record<string, number> = {};
  const seen = new Set<string>();
  for (const split of dataset.splits) {
    const queries = await dataset.queries(split);
    counts[split] = queries.length;
    for (const q of queries) {
      assert.ok(!seen.has(q.id), `question ${q.id} in two splits`);
      seen.add(q.id);
    }
  }
  assert.equal(seen.size, 10570);
  // The exact split sizes for QUESTION_SPLIT_SEED: 70.06 % / 10.24 % / 19.71 %.
  assert.deepEqual(counts, { train: 7405, dev: 1082, test: 2083 });
  const test1 = (await dataset.queries('test'))[0];
  const relevant = [...(await dataset.qrels('test')).get(test1.id)!.keys()];
  assert.equal(relevant.length, 1);
  assert.ok(docs.some((d) => d.id === relevant[0]));
});
