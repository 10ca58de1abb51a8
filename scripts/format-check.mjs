// Prettier's check on the files this branch adds (new since its merge-base with main), so a
// branch never has to reformat files that other branches are editing. `--changed` checks the
// modified files too, once the whole tree has been formatted (`npm run format`, done once).
// Run by `npm run lint`; without a main branch to compare with it says so and checks nothing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const includeModified = process.argv.includes('--changed');
const git = (...args) => execFileSync('git', args, { encoding: 'utf8' }).trim();

let base;
try {
  base = git('merge-base', 'HEAD', 'main');
} catch {
  console.log('format-check: no main branch to compare with; nothing checked');
  process.exit(0);
}
const filter = includeModified ? 'ACMR' : 'A';
const committed = git('diff', '--name-only', `--diff-filter=${filter}`, base, 'HEAD');
const uncommitted = git('diff', '--name-only', `--diff-filter=${filter}`, 'HEAD');
const untracked = git('ls-files', '--others', '--exclude-standard');
const files = [...new Set([committed, uncommitted, untracked].join('\n').split('\n'))]
  .filter((f) => /^(src|bench|scripts|bin)\/.*\.(ts|mjs|js)$/.test(f) && !/\/(testdata|assets)\//.test(f) && existsSync(f))
  .sort();
if (files.length === 0) {
  console.log(`format-check: no ${includeModified ? 'changed' : 'new'} files since main`);
  process.exit(0);
}
try {
  execFileSync(process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--check', ...files], { stdio: 'inherit' });
} catch {
  console.error(
    'format-check: run `npx prettier --write <file>` on the files above (new files only; the tree is formatted once with `npm run format`)',
  );
  process.exit(1);
}
