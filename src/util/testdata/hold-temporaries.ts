/**
 * Child process of the temporaries test: `node hold-temporaries.js DIR MODE` creates a
 * registered temporary file and directory in DIR, plus one it releases (as if renamed into
 * place), prints "ready", then: `wait` waits for a signal; `throw` dies of an uncaught error;
 * `return` lets the event loop run dry; `released` releases everything and waits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeOnExit } from '../temporaries.js';

const [dir, mode] = process.argv.slice(2);
const file = join(dir, `.run.csv.${process.pid}.0123abcd.tmp`);
const folder = join(dir, `.step-00000001.${process.pid}.tmp`);
const kept = join(dir, `.kept.${process.pid}.tmp`);
writeFileSync(file, 'partial');
mkdirSync(folder);
writeFileSync(join(folder, 'model.safetensors'), 'partial');
writeFileSync(kept, 'renamed into place by its owner');
const releases = [removeOnExit(file), removeOnExit(folder)];
removeOnExit(kept)();
if (mode === 'released') for (const release of releases) release();
process.stdout.write('ready\n');
if (mode === 'wait' || mode === 'released') setInterval(() => {}, 1000);
else if (mode === 'throw') setTimeout(() => { throw new Error('crash after ready'); }, 10);
