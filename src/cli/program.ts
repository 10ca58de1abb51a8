import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { UsageError, UserError, describeFileSystemError, isFileSystemError } from '../util/errors.js';
import { registerDatasetsCommand } from './commands/datasets.js';
import { registerEvalCommands } from './commands/eval.js';
import { registerFuseCommand } from './commands/fuse.js';
import { registerBm25Command } from './commands/bm25.js';
import { registerSearchCommand } from './commands/search.js';
import { registerTrainCommand } from './commands/train.js';
import { registerTrainDenseCommand } from './commands/train-dense.js';
import { registerRankTrainingCommands } from './commands/train-rank.js';
import { registerExperimentCommand } from './commands/experiment.js';
import { registerQuickstartCommand } from './commands/quickstart.js';
import { registerHfCommands } from './commands/hf.js';
import { registerServeCommand } from './commands/serve.js';
import { registerReinforcedIrCommands } from './commands/train-reinforced-ir.js';
import { writeStdout, type Write } from './options.js';

// Compiled, this file is dist/src/cli/program.js; run from source (tsx), it is src/cli/program.ts.
const packageJsonUrl = [new URL('../../../package.json', import.meta.url), new URL('../../package.json', import.meta.url)].find((url) =>
  existsSync(url),
);
const packageJson = JSON.parse(readFileSync(packageJsonUrl ?? new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(write: Write = writeStdout): Command {
  const program = new Command('genir')
    .description('Generative information retrieval: datasets, evaluation, BM25, and docid-generating seq2seq models')
    .version(packageJson.version)
    // Commander's own error text (and the help it prints after it) is replaced by one line
    // from main(); --help and --version write where the command's output goes.
    .configureOutput({ writeOut: write, writeErr: () => undefined, outputError: () => undefined });
  registerDatasetsCommand(program, write);
  registerEvalCommands(program, write);
  registerFuseCommand(program, write);
  registerBm25Command(program, write);
  registerSearchCommand(program, write);
  registerTrainCommand(program, write);
  registerTrainDenseCommand(program, write);
  registerRankTrainingCommands(program, write);
  registerExperimentCommand(program, write);
  registerReinforcedIrCommands(program, write);
  registerQuickstartCommand(program, write);
  registerHfCommands(program, write);
  registerServeCommand(program, write);
  reportUsageErrorsAsUserErrors(program);
  return program;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

/** Commander's message on one line: without its `error: ` prefix, the suggestion in brackets on the same line. */
function oneLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean/g, ' (did you mean')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * Every command turns Commander's usage errors into a UsageError (exit code 2, one line);
 * help and version requests (exit code 0) pass through. Commander reports a missing
 * subcommand by printing the whole help as an error, which becomes one line too.
 */
function reportUsageErrorsAsUserErrors(command: Command): void {
  command.exitOverride((err: CommanderError) => {
    if (err.exitCode === 0) throw err;
    const path = commandPath(command);
    if (err.code === 'commander.help') {
      // `genir help <name>` with an unknown name ends here too.
      const [first, second] = command.args;
      if (first === 'help' && second !== undefined) throw new UsageError(`unknown command '${second}'`, path);
      const names = command.commands.map((sub) => sub.name());
      const which = command.parent === null ? '' : `${path.replace(/^\S+ /, '')}: `;
      throw new UsageError(`${which}missing command (one of ${names.join(', ')})`, path);
    }
    throw new UsageError(oneLine(err.message), path);
  });
  for (const sub of command.commands) reportUsageErrorsAsUserErrors(sub);
}

/**
 * Runs the CLI. User errors, usage errors and filesystem errors (a missing folder, no
 * permission, a full disk) become one line on stderr and exit code 2; anything else is a bug
 * and keeps its stack trace.
 */
export async function main(argv: string[], write: Write = writeStdout): Promise<number> {
  const program = buildProgram(write);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit cleanly; other Commander errors become UsageErrors before this.
      if (err.exitCode === 0) return 0;
      process.stderr.write(`genir: error: ${oneLine(err.message)}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`genir: error: ${err.message}\n(see ${err.command} --help)\n`);
      return err.exitCode;
    }
    if (err instanceof UserError) {
      process.stderr.write(`genir: error: ${err.message}\n`);
      return err.exitCode;
    }
    if (isFileSystemError(err)) {
      process.stderr.write(`genir: error: ${describeFileSystemError(err)}\n`);
      return 2;
    }
    throw err;
  }
}

export { UsageError };
