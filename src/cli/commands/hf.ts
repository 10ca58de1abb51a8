import type { Command } from 'commander';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { totalVocabSize } from '../../model/config.js';
import { loadModelDirectory } from '../../retriever/directory.js';
import { describeCheckpoint, readHfCheckpoint, writeHfDirectory } from '../../model/hf-import.js';
import type { SubwordTokenizer } from '../../text/tokenizer/index.js';
import { UserError } from '../../util/errors.js';
import { jsonOption, type Write } from '../options.js';

interface HfOutputOptions {
  out: string;
  overwrite?: boolean;
  json?: boolean;
}

/** An output directory must be new, empty, or (with --overwrite) an earlier HF export; never the input. */
function checkOutput(out: string, input: string, overwrite: boolean | undefined): string {
  const target = resolve(out);
  if (target === resolve(input)) throw new UserError(`--out ${out}: is the input directory; choose another`);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UserError(`--out ${out}: exists and is not a directory`);
    if (readdirSync(target).length > 0 && !overwrite)
      throw new UserError(`--out ${out}: exists and is not empty; pass --overwrite to write into it`);
  }
  return target;
}

/** Text ids split into the tokenizer's pieces, sentinels and placeholder rows, for the import message. */
function vocabularyParts(tokenizer: SubwordTokenizer): string {
  let sentinels = 0;
  let rows = 0;
  for (let id = 0; id < tokenizer.subwordVocabSize; id++) {
    const token = tokenizer.idToToken(id) ?? '';
    if (/^<extra_id_\d+>$/.test(token)) sentinels++;
    else if (/^<genir_row_\d+>$/.test(token)) rows++;
  }
  return `${tokenizer.subwordVocabSize - sentinels - rows} pieces, ${sentinels} sentinels, ${rows} unused rows`;
}

export function registerHfCommands(program: Command, write: Write): void {
  program
    .command('import')
    .description('bring in pre-trained models')
    .command('hf')
    .description(
      'import a Hugging Face T5 / Flan-T5 / mT5 directory (config.json, safetensors, tokenizer.json or spiece.model) as a float32 HF directory that genir train sft --init and transformers load',
    )
    .argument('<dir>', 'the Hugging Face model directory')
    .requiredOption('--out <dir>', 'directory to write')
    .option('--overwrite', 'write into a non-empty --out')
    .addOption(jsonOption('print one JSON object describing the checkpoint as the last line of stdout'))
    .action(async (dir: string, options: HfOutputOptions) => {
      const out = checkOutput(options.out, dir, options.overwrite);
      const checkpoint = readHfCheckpoint(resolve(dir));
      const { config, tokenizer } = checkpoint;
      await writeHfDirectory(out, config, checkpoint.weights, tokenizer);
      const summary = describeCheckpoint(checkpoint);
      const lines = [
        `imported ${checkpoint.dir}: ${config.feedForward} feed-forward, ${config.tieWordEmbeddings ? 'tied head (logits scaled by d_model^-0.5)' : 'untied lm_head'}, ` +
          `d_model ${config.dModel}, ${config.numLayers}+${config.numDecoderLayers} layers, ${config.numHeads} heads of ${config.dKv}`,
        `parameters: ${summary.parameters as number} (weights ${checkpoint.files.weights.join(', ')}, stored as ${checkpoint.files.storedDtypes.join('/')}, now float32)`,
        `tokenizer: ${checkpoint.files.tokenizer} (${tokenizer.kind}), text vocabulary ${tokenizer.subwordVocabSize}: ${vocabularyParts(tokenizer)}`,
        `docid rows: ${config.docidVocabSize} (genir train sft --init ${options.out} adds one embedding${config.tieWordEmbeddings ? '' : ' and lm_head'} row per docid token)`,
        `wrote ${out}`,
      ];
      if (options.json) lines.push(JSON.stringify({ ...summary, out }));
      write(`${lines.join('\n')}\n`);
    });

  program
    .command('export')
    .description('write models for other libraries')
    .command('hf')
    .description(
      'write a genir model directory as a Hugging Face T5 directory (config.json, model.safetensors, tokenizer.json with the docid tokens)',
    )
    .requiredOption('--model <dir>', 'genir model directory (from genir train)')
    .requiredOption('--out <dir>', 'directory to write')
    .option('--overwrite', 'write into a non-empty --out')
    .addOption(jsonOption())
    .action(async (options: HfOutputOptions & { model: string }) => {
      const out = checkOutput(options.out, options.model, options.overwrite);
      const loaded = await loadModelDirectory(options.model, { threads: 1 });
      const { config } = loaded.model;
      if (config.lexicalHead) {
        await loaded.model.release();
        throw new UserError(
          `--model ${options.model}: has a lexical head (lexical_head.weight, a bag-of-words term inside the docid logits); Hugging Face T5 has no such tensor, so it cannot be exported`,
        );
      }
      await writeHfDirectory(out, config, loaded.model.weights(), loaded.tokenizer);
      await loaded.model.release();
      const lines = [
        `exported ${loaded.dir} to ${out}: ${totalVocabSize(config)} rows (${config.vocabSize} text, ${config.docidVocabSize} docid tokens)`,
      ];
      if (options.json)
        lines.push(
          JSON.stringify({
            model: loaded.dir,
            out,
            vocab: totalVocabSize(config),
            text_vocab: config.vocabSize,
            docid_rows: config.docidVocabSize,
          }),
        );
      write(`${lines.join('\n')}\n`);
    });
}
