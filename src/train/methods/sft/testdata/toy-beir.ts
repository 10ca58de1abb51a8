/** A BEIR-format toy dataset for fast CLI training tests: 10 short documents, one query each (test split). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOPICS = [
  'volcano lava ash crust plate',
  'bees honey nectar pollen colony',
  'glacier ice valley weight slow',
  'chess board king pieces checkmate',
  'tides moon sun gravity coast',
  'bridge river cable arch load',
  'forest trees leaves canopy birds',
  'desert sand dunes heat cactus',
  'ocean waves salt whales deep',
  'mountain peak snow climbers rock',
];

/** Writes the folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) under `dir` and returns its path. */
export function writeToyBeir(dir: string): string {
  const folder = join(dir, 'toy-beir');
  mkdirSync(join(folder, 'qrels'), { recursive: true });
  const docs = TOPICS.map((topic, i) => {
    const title = topic.split(' ')[0];
    return JSON.stringify({ _id: `d${i}`, title, text: `${`${topic} `.repeat(4)}This document is about ${title} and related things.` });
  });
  writeFileSync(join(folder, 'corpus.jsonl'), `${docs.join('\n')}\n`);
  writeFileSync(join(folder, 'queries.jsonl'), `${TOPICS.map((topic, i) => JSON.stringify({ _id: `q${i}`, text: `what about ${topic.split(' ')[1]}` })).join('\n')}\n`);
  writeFileSync(join(folder, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${TOPICS.map((_, i) => `q${i}\td${i}\t1`).join('\n')}\n`);
  return folder;
}
