#!/usr/bin/env node
// The installed `genir` command (npx, npm link, global installs). The CLI itself is compiled
// TypeScript under dist/; a checkout that has not been built yet gets one line saying how.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(entry)) {
  await import(entry.href);
} else {
  process.stderr.write('genir: error: the CLI is not built yet (no dist/src/cli/main.js); run `npm run build` in the genir checkout\n');
  process.exitCode = 2;
}
