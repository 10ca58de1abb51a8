import type { Command } from 'commander';

// Placeholder until `genir bm25` lands (issue 2, bm25 stage).
export function registerBm25Command(_program: Command): void {}
