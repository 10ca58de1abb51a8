// tsc emits only JavaScript; tests that read fixture files beside their source
// (any `testdata/` folder under src/) find them at the same relative path in dist/, and so
// does code that serves static files (any `assets/` folder, such as the search page's).
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function copyTestdata(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) continue;
    if (name === 'assets') cpSync(path, join('dist', path), { recursive: true });
    else if (name === 'testdata')
      cpSync(path, join('dist', path), { recursive: true, filter: (src) => !src.endsWith('.ts') || statSync(src).isDirectory() });
    else copyTestdata(path);
  }
}

copyTestdata('src');
