import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { registerDatasetsCommand } from './commands/datasets.js';
import { registerEvalCommands } from './commands/eval.js';
import { registerBm25Command } from './commands/bm25.js';
import { registerSearchCommand } from './commands/search.js';
import { registerTrainCommand } from './commands/train.js';
import { registerRankTrainingCommands } from './commands/train-rank.js';
import { registerExperimentCommand } from './commands/experiment.js';
import { registerQuickstartCommand } from './commands/quickstart.js';
import { registerHfCommands } from './commands/hf.js';

// Compiled, this file is dist/src/cli/program.js; run from source (tsx), it is src/cli/program.ts.
const packageJsonUrl = [new URL('../../../package.json', import.meta.url), new URL('../../package.json', import.meta.url)].find((url) => existsSync(url));
const packageJson = JSON.parse(readFileSync(packageJsonUrl ?? new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('genir')
    .description('Generative information retrieval: datasets, evaluation, BM25, and docid-generating seq2seq models')
    .version(packageJson.version)
    .showHelpAfterError()
    .exitOverride();
  registerDatasetsCommand(program);
  registerEvalCommands(program);
  registerBm25Command(program);
  registerSearchCommand(program);
  registerTrainCommand(program);
  registerRankTrainingCommands(program);
  registerExperimentCommand(program);
  registerQuickstartCommand(program);
  registerHfCommands(program);
  return program;
}

/** Runs the CLI; user errors become one line on stderr and exit code 2. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message; help and version exit cleanly.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`genir: error: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
