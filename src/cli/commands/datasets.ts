import type { Command } from 'commander';
import { fetchDataset, parseDownloadSetting } from '../../data/fetch.js';
import { datasetInfo, listDatasets, resolveDataDir, type DatasetInfo } from '../../data/registry.js';
import { formatTable } from '../../eval/report.js';
import { dataDirOption, jsonOption, type Write } from '../options.js';

interface InfoOptions {
  dataDir?: string;
  lang?: string;
  corpusLang?: string;
  json?: boolean;
}

interface FetchCommandOptions {
  dataDir?: string;
  mirror?: string;
  force?: boolean;
  timeout?: string;
  idleTimeout?: string;
  retries?: string;
  retryDelay?: string;
  json?: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');

function formatInfo(info: DatasetInfo): string {
  const lines = [`${info.id} — ${info.name}`];
  if (info.description !== '') lines.push(`  ${info.description}`);
  lines.push(
    `  path       ${info.path}`,
    `  licence    ${info.licence}`,
    `  source     ${info.sourceUrl === '' ? '(local files)' : info.sourceUrl}`,
  );
  if (info.lang !== undefined) lines.push(`  languages  queries ${info.lang}, corpus ${info.corpusLang ?? info.lang}`);
  lines.push(`  documents  ${count(info.docs)}`, '');
  const splitRows = info.splits.map((split) => [
    split + (split === info.defaultSplit ? ' (default)' : ''),
    count(info.queries[split]),
    count(info.qrels[split]),
    count(info.relevant[split]),
  ]);
  lines.push(formatTable([['split', 'queries', 'judgments', 'relevant'], ...splitRows]));
  return lines.join('\n');
}

export function registerDatasetsCommand(program: Command, write: Write): void {
  const datasets = program.command('datasets').description('list, inspect and download the retrieval datasets');

  datasets
    .command('list')
    .description('list the registered dataset ids')
    .addOption(jsonOption('print one JSON array'))
    .action((options: { json?: boolean }) => {
      const all = listDatasets();
      if (options.json) {
        write(`${JSON.stringify(all)}\n`);
        return;
      }
      const rows = [['id', 'splits', 'licence', 'what'], ...all.map((d) => [d.id, d.splits.join(','), d.licence, d.name])];
      const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
      const lines = rows.map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]))
          .join('  ')
          .trimEnd(),
      );
      const notes = all.filter((d) => d.options).map((d) => `${d.id} options: ${d.options}`);
      write(`${[...lines, '', ...notes, `data directory: ${resolveDataDir()}`].join('\n')}\n`);
    });

  datasets
    .command('info <id>')
    .description('counts (documents, queries and judgments per split), licence and source of a dataset id or BEIR folder')
    .addOption(dataDirOption())
    .option('--lang <code>', 'query language (xquad)')
    .option('--corpus-lang <code>', 'corpus language, or all (xquad; default: the query language)')
    .addOption(jsonOption('print one JSON object'))
    .action(async (id: string, options: InfoOptions) => {
      const info = await datasetInfo({ id, dataDir: options.dataDir, lang: options.lang, corpusLang: options.corpusLang });
      write(options.json ? `${JSON.stringify(info)}\n` : `${formatInfo(info)}\n`);
    });

  datasets
    .command('fetch <id>')
    .description('download a dataset from its official source, verify its checksum and install it atomically')
    .addOption(dataDirOption('where to install it (default: $GENIR_DATA_DIR, else ~/.cache/genir/datasets)'))
    .option('--mirror <url>', "base URL of a mirror in genir's layout, <url>/<folder>/<file> (default: $GENIR_DATASETS_MIRROR)")
    .option('--force', 'download again even when the dataset is present (and verified)')
    .option('--timeout <seconds>', 'longest wait for a server to answer (default: $GENIR_FETCH_TIMEOUT, else 30)')
    .option('--idle-timeout <seconds>', 'longest silence while receiving a file (default: $GENIR_FETCH_IDLE_TIMEOUT, else 60)')
    .option('--retries <n>', 'further attempts after a timeout, dropped connection or HTTP 5xx (default: $GENIR_FETCH_RETRIES, else 3)')
    .option(
      '--retry-delay <seconds>',
      'wait before the first retry, doubled for each further one (default: $GENIR_FETCH_RETRY_DELAY, else 1)',
    )
    .addOption(jsonOption('print one JSON object with what was installed'))
    .action(async (id: string, options: FetchCommandOptions) => {
      const seconds = (text: string | undefined, option: string) =>
        text === undefined ? undefined : parseDownloadSetting(text, option, 'seconds');
      const result = await fetchDataset(id, {
        dataDir: options.dataDir,
        mirror: options.mirror,
        force: options.force,
        timeout: seconds(options.timeout, '--timeout'),
        idleTimeout: seconds(options.idleTimeout, '--idle-timeout'),
        retries: options.retries === undefined ? undefined : parseDownloadSetting(options.retries, '--retries', 'count'),
        retryDelay: seconds(options.retryDelay, '--retry-delay'),
        log: (line) => process.stderr.write(`genir: ${line}\n`),
      });
      if (options.json) write(`${JSON.stringify(result)}\n`);
      else write(`${result.downloaded ? 'installed' : 'already present'}: ${result.folder}\n`);
    });
}
