#!/usr/bin/env node
// The `genir` executable. It runs the CLI unconditionally: npx, `npm link` and global installs
// start it through a symlink or shim whose name is not this file's, so nothing here may decide
// by file names. Code that wants the CLI as a function imports `main` from ./program.js.
import { main } from './program.js';

process.exitCode = await main(process.argv);
