/** A SQuAD-format toy dataset for fast SFT tests (6 paragraphs, 36 questions). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TOPICS = [
  ['Volcanoes', 'A volcano is a rupture in the crust of a planet. Lava and ash escape from it. Many volcanoes stand along plate boundaries.'],
  ['Bees', 'Bees are flying insects closely related to wasps. They collect nectar and pollen. Honey bees live in large colonies.'],
  ['Glaciers', 'A glacier is a persistent body of dense ice. It moves slowly under its own weight. Glaciers carve valleys over time.'],
  ['Chess', 'Chess is a board game for two players. Each player starts with sixteen pieces. The goal is to checkmate the king.'],
  ['Tides', 'Tides are the rise and fall of sea levels. They are caused by the gravity of the moon and the sun. Most coasts see two tides a day.'],
  ['Bridges', 'A bridge spans an obstacle such as a river. Suspension bridges hang from cables. Arch bridges push their load outwards.'],
];
const QUESTIONS = ['What is {t}?', 'Where do you find {t}?', 'Why do {t} matter?', 'Who studies {t}?', 'How old are the oldest {t}?', 'What causes {t}?'];

/** A SQuAD-format file with 6 paragraphs and 36 questions (about 70 % land in the train split). */
export function writeToySquad(dir: string): string {
  const data = TOPICS.map(([title, context], a) => ({
    title,
    paragraphs: [{ context, qas: QUESTIONS.map((q, i) => ({ id: `q${a}-${i}`, question: q.replace('{t}', title.toLowerCase()), answers: [] })) }],
  }));
  const path = join(dir, 'toy.json');
  writeFileSync(path, JSON.stringify({ version: '1.1', data }));
  return path;
}

/** The flags of a seconds-long `genir train sft` on the toy dataset: a 16-wide one-layer model, no dropout. */
export function toyTrainingFlags(cacheDir: string): string[] {
  return [
    '--pseudo', 'spans', '--vocab', '330', '--d-model', '16', '--d-ff', '32', '--layers', '1', '--dropout', '0',
    '--batch-size', '8', '--lr', '1e-2', '--threads', '1', '--cache-dir', cacheDir, '--json',
  ];
}

/**
 * Runs `body` in a fresh temporary folder holding the toy SQuAD dataset (6 paragraphs, 36
 * questions; its path is `dataset`), and removes the folder afterwards, whatever `body` throws.
 */
export async function withToySquad<T>(prefix: string, body: (root: string, dataset: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await body(root, writeToySquad(root));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
