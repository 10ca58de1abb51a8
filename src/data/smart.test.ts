import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CranfieldDataset, readCranfieldQrels, readSmartDocs, readSmartQueries } from './smart.js';
import { collect, tempFiles } from './testdata/files.js';

const DATA_DIR = process.env.GENIR_DATA_DIR;
const needsData = DATA_DIR ? false : 'GENIR_DATA_DIR is not set';
const file = tempFiles('genir-smart-');

test('SMART records: .T title, .W text, repeated fields appended, ids normalised', async () => {
  const path = file(
    'docs',
    [
      '.I 1',
      '.T',
      'a title',
      'on two lines',
      '.A',
      'someone',
      '.B',
      'j. ae. 1958',
      '.W',
      'body one',
      '  indented',
      '.A',
      '.W',
      'more body',
      '.I 002',
      '.T',
      'second',
      '.T',
      'again',
      '.W',
      'text two',
      '',
    ].join('\n'),
  );
  assert.deepEqual(await collect(readSmartDocs(path)), [
    { id: '1', title: 'a title on two lines', text: 'body one indented more body' },
    { id: '2', title: 'second again', text: 'text two' },
  ]);
});

test('SMART errors: text before .I, .I without number, duplicate ids, empty file', async () => {
  await assert.rejects(collect(readSmartDocs(file('e1', 'stray text\n.I 1\n.W\nx\n'))), /e1:1: text outside a "\.I" record/);
  await assert.rejects(collect(readSmartDocs(file('e2', '.I 1\n.W\nx\n.I\n.W\ny\n'))), /e2:4: "\.I" must be followed by a record number/);
  await assert.rejects(collect(readSmartDocs(file('e3', '.I 1\n.W\nx\n.I 01\n.W\ny\n'))), /e3:4: duplicate document id '1'/);
  await assert.rejects(collect(readSmartDocs(file('e4', '\n'))), /e4: empty corpus/);
  await assert.rejects(collect(readSmartDocs(file('e5', '.W\nx\n'))), /e5:1: field "\.W" before the first "\.I" record/);
});

test('queries are numbered by position; grades 1..4 become gains 4..1; -1 rows are skipped', async () => {
  const queries = await readSmartQueries(file('qry', '.I 001\n.W\nfirst query .\n.I 004\n.W\nsecond\nquery .\n'));
  assert.deepEqual(queries, [
    { id: '1', text: 'first query .', originalNumber: '001' },
    { id: '2', text: 'second query .', originalNumber: '004' },
  ]);
  const qrels = await readCranfieldQrels(file('qrel', '1 184 2 \n1 29 1\n1 486 -1\n2 12 4\n2 13 3\n'));
  assert.deepEqual(
    [...qrels].map(([q, m]) => [q, [...m]]),
    [
      [
        '1',
        [
          ['184', 3],
          ['29', 4],
        ],
      ],
      [
        '2',
        [
          ['12', 1],
          ['13', 2],
        ],
      ],
    ],
  );
  await assert.rejects(readCranfieldQrels(file('bad1', '1 2 5\n')), /bad1:1: relevance grade '5' is not one of 1, 2, 3, 4/);
  await assert.rejects(readCranfieldQrels(file('bad2', '1 2 3\n1 2\n')), /bad2:2: expected "query document grade", found 2 fields/);
});

test(
  'Cranfield from GENIR_DATA_DIR: 1,400 docs, 225 queries, 1,612 graded judgments (1,837 rows less 225 "-1")',
  { skip: needsData },
  async () => {
    const dataset = new CranfieldDataset(join(DATA_DIR as string, 'cranfield'));
    const docs = await collect(dataset.docs());
    assert.equal(docs.length, 1400);
    assert.equal(docs[0].title, 'experimental investigation of the aerodynamics of a wing in a slipstream .');
    assert.ok(docs[0].text.startsWith('experimental investigation of the aerodynamics of a wing in a slipstream . an experimental study'));
    // Record 240 has stray .A/.B markers inside its abstract: all of it stays in the text.
    assert.ok(
      docs[239].text.includes(
        'application to turbulent separations is made for a prandtl number of unity in low-speed flow without injection . all calculations',
      ),
    );
    assert.ok(docs[239].text.endsWith('reduces to zero the heat transfer in a laminar separated flow .'));
    const queries = await dataset.queries('test');
    assert.equal(queries.length, 225);
    assert.equal(queries[2].text, 'what problems of heat conduction in composite slabs have been solved so far .');
    assert.equal((await dataset.originalQueryNumbers()).get('3'), '004');
    const qrels = await dataset.qrels('test');
    assert.equal(qrels.size, 225);
    const gains = new Map<number, number>();
    for (const judged of qrels.values()) for (const gain of judged.values()) gains.set(gain, (gains.get(gain) ?? 0) + 1);
    // cranqrel has 128 grade-1, 387 grade-2, 734 grade-3 and 363 grade-4 rows.
    assert.deepEqual([...gains].sort(), [
      [1, 363],
      [2, 734],
      [3, 387],
      [4, 128],
    ]);
    assert.equal(qrels.get('1')?.get('184'), 3);
    assert.equal(qrels.get('1')?.has('486'), false, 'the -1 row is not a judgment');
    await assert.rejects(dataset.queries('train'), /unknown split 'train' \(available: test\)/);
  },
);
