import type { Command } from 'commander';

// Placeholder until `genir eval` / `genir compare` land (issue 2, eval stage).
export function registerEvalCommands(_program: Command): void {}
