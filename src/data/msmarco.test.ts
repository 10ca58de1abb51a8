import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCollectionTsv, readQueriesTsv } from './msmarco.js';
import { collect, tempFiles } from './testdata/files.js';

const file = tempFiles('genir-tsv-');

test('MS MARCO collection.tsv and queries.tsv, CRLF and BOM tolerated', async () => {
  const docs = await collect(
    readCollectionTsv(file('collection.tsv', '\ufeff0\tThe presence of communication\r\n1\tsecond\tpassage with a tab\r\n')),
  );
  assert.deepEqual(docs, [
    { id: '0', title: '', text: 'The presence of communication' },
    { id: '1', title: '', text: 'second\tpassage with a tab' },
  ]);
  assert.deepEqual(await readQueriesTsv(file('queries.tsv', "1048585\twhat is paula deen's brother\n2\tandrogen receptor define\n")), [
    { id: '1048585', text: "what is paula deen's brother" },
    { id: '2', text: 'androgen receptor define' },
  ]);
});

test('TSV errors: missing tab, duplicate id, empty collection', async () => {
  await assert.rejects(
    collect(readCollectionTsv(file('a.tsv', '0\tok\n1 no tab here\n'))),
    /a\.tsv:2: expected "id<TAB>text" \(collection\), found no tab/,
  );
  await assert.rejects(collect(readCollectionTsv(file('b.tsv', '0\tx\n0\ty\n'))), /b\.tsv:2: duplicate document id '0'/);
  await assert.rejects(collect(readCollectionTsv(file('c.tsv', ''))), /c\.tsv: empty corpus/);
  await assert.rejects(readQueriesTsv(file('d.tsv', '5\tx\n5\ty\n')), /d\.tsv:2: duplicate query id '5'/);
});
