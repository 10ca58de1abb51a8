import type { Command } from 'commander';

// Placeholder until the datasets command lands (issue 2, data stage).
export function registerDatasetsCommand(_program: Command): void {}
