/**
 * Child process of the TF-IDF heap test: builds the TF-IDF matrix of `count` seeded
 * 150-word documents (Zipf-like word draws) and prints its number of stored entries.
 */
import { Rng } from '../../util/random.js';
import { tfidfMatrix } from '../tfidf.js';

const count = Number(process.argv[2]);
const rng = new Rng(1);
const texts = Array.from({ length: count }, () => Array.from({ length: 150 }, () => `w${Math.floor(rng.next() ** 3 * 50_000)}`).join(' '));
const { matrix } = tfidfMatrix(texts, { analyze: (text) => text.split(' ') });
process.stdout.write(`${matrix.values.length}\n`);
