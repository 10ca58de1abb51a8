import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { UserError } from '../util/errors.js';
import { deadTemps, ownedTempPath, removeOnInterrupt } from '../util/temp-sweep.js';
import { datasetDescriptor, resolveDataDir } from './registry.js';
import { XQUAD_LANGUAGES, xquadFileName } from './xquad.js';

export type ChecksumAlgorithm = 'md5' | 'sha256';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Lower-case hex digest. */
  hex: string;
}

/**
 * One download: a plain file saved as `target`, or an archive from which `members`
 * (archive path suffix → path in the dataset folder) are extracted. The checksum is
 * that of the downloaded bytes, checked before anything is extracted or kept.
 */
export interface DownloadSource {
  url: string;
  checksum: Checksum;
  kind: 'file' | 'zip' | 'tar.gz';
  /** Path inside the dataset folder (kind `file`). */
  target?: string;
  /** Archive member (matched as the whole name or its trailing path) → path inside the dataset folder. */
  members?: Record<string, string>;
}

const md5 = (hex: string): Checksum => ({ algorithm: 'md5', hex });
const sha256 = (hex: string): Checksum => ({ algorithm: 'sha256', hex });

/**
 * The XQuAD release is pinned to one commit of its repository so the file checksums can
 * never drift; these bytes are identical to the copies in the shared data folder.
 */
const XQUAD_COMMIT = '7d30520c717524000f0d9d2f9c10a069acd9d285';
const XQUAD_RAW = `https://raw.githubusercontent.com/google-deepmind/xquad/${XQUAD_COMMIT}`;

/** sha256 of each XQuAD file at XQUAD_COMMIT. */
const XQUAD_SHA256: Record<string, string> = {
  'xquad.ar.json': 'abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d',
  'xquad.de.json': '990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9',
  'xquad.el.json': '821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e',
  'xquad.en.json': 'e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29',
  'xquad.es.json': 'dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e',
  'xquad.hi.json': 'df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24',
  'xquad.ro.json': '94f8d54e93ad2b7dd2e76dd921a666b5b8eff2d4379df9f179c42b445f09643f',
  'xquad.ru.json': '208d5b1aa154c52b1b5c5eda16281e455e8fd198cdb9af3f469f0d6037d973bf',
  'xquad.th.json': '5cdda11d0e1e075f7872abf4e6ae830388ce7f617964d542308e9ae4257e0f43',
  'xquad.tr.json': '92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc',
  'xquad.vi.json': 'f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04',
  'xquad.zh.json': '691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835',
  'CC-BY-SA4.0.txt': '25ddafc153e4cfdafd70729574ef1b44348e1814709e57680d55347038d3f92c',
};

/**
 * sha256 of every file in genir's data-directory layout (`<folder>/<file>`), as the
 * reference copy the project's numbers are measured on. A mirror must serve exactly
 * these bytes. SciFact's files are a conversion into BEIR's layout, so they are checked
 * here but are not byte-identical to the files inside BEIR's scifact.zip.
 */
const LAYOUT_SHA256: Record<string, Record<string, string>> = {
  scifact: {
    'corpus.jsonl': 'f0d32db0d156b526d75921ed7a76f2cb912902631c87248c5c97c617bad0b60c',
    'queries.jsonl': '9db7df096f7414435d52bafcbacf814c30cea50eb565c1e8fa6d11440759bba8',
    'qrels/test.tsv': '68c0ac63f1c24b9e8ce497649694f09b2d0850bab7ec2b103cc66996f5f8b3a3',
    'qrels/train.tsv': 'ac0902d9b1cb717df182aaff1306175877fdb8f55bb5c3e8597ad694fc8e539f',
  },
  'squad-dev': {
    'dev-v1.1.json': '95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9',
  },
  xquad: XQUAD_SHA256,
  cranfield: {
    'cran.all.1400': 'b234544b6ceccd131520df4a3cb6d42aee6576eb577933d047e722bbfe7b0b09',
    'cran.qry': '99578ceb88941ef89c14faf7c63c23776a376d8fba319b990f01d0c601d8b03f',
    cranqrel: '92e54b58dac0b980152178f350d892fae66c8a239b8a11715b835fb8d2f6bc0e',
    'cranqrel.readme': '8f4cb2e60ab2324bb3ad980bdc8b9cf6a9b98a08d097d90a351485dd6e25433f',
  },
};

/**
 * The official public sources. Checksums: scifact.zip's md5 is the one BEIR publishes
 * (datasets/md5.csv; ir_datasets uses the same); SQuAD's md5 is the well-known one of
 * dev-v1.1.json; XQuAD is pinned to a commit; cran.tar.gz's md5 is ir_datasets' (which
 * downloads it from the same Glasgow page).
 */
const OFFICIAL_SOURCES: Record<string, DownloadSource[]> = {
  scifact: [
    {
      url: 'https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip',
      checksum: md5('5f7d1de60b170fc8027bb7898e2efca1'),
      kind: 'zip',
      members: {
        'scifact/corpus.jsonl': 'corpus.jsonl',
        'scifact/queries.jsonl': 'queries.jsonl',
        'scifact/qrels/test.tsv': 'qrels/test.tsv',
        'scifact/qrels/train.tsv': 'qrels/train.tsv',
      },
    },
  ],
  'squad-dev': [
    {
      url: 'https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json',
      checksum: md5('3e85deb501d4e538b6bc56f786231552'),
      kind: 'file',
      target: 'dev-v1.1.json',
    },
  ],
  xquad: [...XQUAD_LANGUAGES.map(xquadFileName), 'CC-BY-SA4.0.txt'].map((file) => ({
    url: `${XQUAD_RAW}/${file}`,
    checksum: sha256(XQUAD_SHA256[file]),
    kind: 'file' as const,
    target: file,
  })),
  cranfield: [
    {
      url: 'http://ir.dcs.gla.ac.uk/resources/test_collections/cran/cran.tar.gz',
      checksum: md5('1730f7be572d95a5a4b56c59a7b900a5'),
      kind: 'tar.gz',
      members: { 'cran.all.1400': 'cran.all.1400', 'cran.qry': 'cran.qry', cranqrel: 'cranqrel', 'cranqrel.readme': 'cranqrel.readme' },
    },
  ],
};

/** The official downloads of a registered dataset. */
export function officialSources(id: string): DownloadSource[] {
  datasetDescriptor(id); // unknown id → UserError listing the known ones
  return OFFICIAL_SOURCES[id].map((source) => ({ ...source }));
}

/**
 * Downloads from a mirror that serves genir's data-directory layout:
 * `<mirror>/<folder>/<file>`, each file checked against its sha256.
 */
export function mirrorSources(id: string, mirror: string): DownloadSource[] {
  const descriptor = datasetDescriptor(id);
  let base: URL;
  try {
    base = new URL(mirror.endsWith('/') ? mirror : `${mirror}/`);
  } catch {
    throw new UserError(`GENIR_DATASETS_MIRROR / --mirror: '${mirror}' is not a URL`);
  }
  return Object.entries(LAYOUT_SHA256[id]).map(([file, hex]) => ({
    url: new URL(posix.join(descriptor.folder, file), base).href,
    checksum: sha256(hex),
    kind: 'file' as const,
    target: file,
  }));
}

/** How patient a download is; every field in milliseconds except `retries`. */
export interface DownloadSettings {
  /** Longest wait for a server's response (connection and HTTP headers). */
  timeoutMs: number;
  /** Longest stretch without receiving any data once the body is flowing. */
  idleTimeoutMs: number;
  /** Further attempts after a failure that may be passing (timeout, dropped connection, HTTP 5xx, 408, 429). */
  retries: number;
  /** Wait before the first retry; doubled for each further one, at most MAX_RETRY_DELAY_MS. */
  retryDelayMs: number;
}

export interface DownloadOptions {
  /** Seconds; default `GENIR_FETCH_TIMEOUT`, else 30. */
  timeout?: number;
  /** Seconds; default `GENIR_FETCH_IDLE_TIMEOUT`, else 60. */
  idleTimeout?: number;
  /** Default `GENIR_FETCH_RETRIES`, else 3. */
  retries?: number;
  /** Seconds; default `GENIR_FETCH_RETRY_DELAY`, else 1. */
  retryDelay?: number;
  /** Receives one line per step and per retry (the CLI prints them on stderr). */
  log?: (line: string) => void;
}

export interface FetchOptions extends DownloadOptions {
  dataDir?: string;
  /** Base URL of a mirror in genir's layout; default `GENIR_DATASETS_MIRROR`, else the official sources. */
  mirror?: string;
  /** Download again even when the dataset is already present. */
  force?: boolean;
}

export interface FetchResult {
  id: string;
  folder: string;
  /** False when the dataset was already present and nothing was downloaded. */
  downloaded: boolean;
  /** Paths written, relative to `folder`. */
  files: string[];
}

const DEFAULT_TIMEOUT_S = 30;
const DEFAULT_IDLE_TIMEOUT_S = 60;
const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_DELAY_S = 1;
const MAX_RETRY_DELAY_MS = 30_000;

/** Staging folders next to the data folders; the owner's host and pid follow (src/util/temp-sweep.ts). */
const STAGE_PREFIX = '.genir-fetch-';
/** Stage folders of genir versions that did not name their owner (`mkdtemp`) are swept once this old. */
const LEGACY_STAGE_AGE_MS = 24 * 3600 * 1000;
/** Written into every installed dataset folder: each file's size and sha256, checked before "already present". */
export const INSTALL_RECORD = '.genir-install.json';

/**
 * Parses a download setting given as an option or environment variable: seconds (decimals
 * allowed, > 0) for timeouts and delays, a whole number ≥ 0 for retries.
 */
export function parseDownloadSetting(text: string, name: string, kind: 'seconds' | 'count'): number {
  const value = Number(text);
  const valid =
    kind === 'count'
      ? /^\s*\d+\s*$/.test(text) && Number.isSafeInteger(value)
      : /^\s*(\d+\.?\d*|\.\d+)\s*$/.test(text) && value > 0 && Number.isFinite(value);
  if (!valid)
    throw new UserError(`${name} ${JSON.stringify(text)}: expected ${kind === 'count' ? 'a whole number ≥ 0' : 'a number of seconds > 0'}`);
  return value;
}

function setting(given: number | undefined, option: string, variable: string, fallback: number, kind: 'seconds' | 'count'): number {
  if (given !== undefined) {
    const valid = kind === 'count' ? Number.isSafeInteger(given) && given >= 0 : Number.isFinite(given) && given > 0;
    if (!valid) throw new UserError(`${option} ${given}: expected ${kind === 'count' ? 'a whole number ≥ 0' : 'a number of seconds > 0'}`);
    return given;
  }
  const text = process.env[variable];
  return text === undefined || text.trim() === '' ? fallback : parseDownloadSetting(text, variable, kind);
}

/** setTimeout's limit (about 24.8 days); a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The options, else the environment variables, else the defaults. */
export function downloadSettings(options: DownloadOptions = {}): DownloadSettings {
  return {
    timeoutMs: Math.min(setting(options.timeout, '--timeout', 'GENIR_FETCH_TIMEOUT', DEFAULT_TIMEOUT_S, 'seconds') * 1000, MAX_TIMER_MS),
    idleTimeoutMs: Math.min(
      setting(options.idleTimeout, '--idle-timeout', 'GENIR_FETCH_IDLE_TIMEOUT', DEFAULT_IDLE_TIMEOUT_S, 'seconds') * 1000,
      MAX_TIMER_MS,
    ),
    retries: setting(options.retries, '--retries', 'GENIR_FETCH_RETRIES', DEFAULT_RETRIES, 'count'),
    retryDelayMs: setting(options.retryDelay, '--retry-delay', 'GENIR_FETCH_RETRY_DELAY', DEFAULT_RETRY_DELAY_S, 'seconds') * 1000,
  };
}

/**
 * Downloads a registered dataset into `<dataDir>/<folder>`: every download is verified
 * against its checksum, everything is staged in a temporary folder next to the target,
 * and the finished folder is renamed into place. On any failure, and on Ctrl-C, nothing is
 * left behind. A dataset already present is verified (sizes and checksums) before it is
 * reported present; a damaged one is downloaded again.
 */
export async function fetchDataset(id: string, options: FetchOptions = {}): Promise<FetchResult> {
  const descriptor = datasetDescriptor(id);
  const dataDir = resolveDataDir(options.dataDir);
  const folder = join(dataDir, descriptor.folder);
  if (!options.force) {
    const problem = await presentProblem(folder, descriptor.files, LAYOUT_SHA256[id]);
    if (problem === undefined) {
      options.log?.(`${id}: already present in ${folder} (sizes and checksums verified)`);
      return { id, folder, downloaded: false, files: [] };
    }
    if (problem !== 'absent') options.log?.(`${id}: ${problem}; downloading it again`);
  }
  const mirror = options.mirror ?? process.env.GENIR_DATASETS_MIRROR;
  const sources = mirror !== undefined && mirror !== '' ? mirrorSources(id, mirror) : officialSources(id);
  const files = await installSources(sources, folder, options);
  return { id, folder, downloaded: true, files };
}

interface InstallRecord {
  format: 'genir-install';
  installedAt: string;
  sources: string[];
  files: { path: string; bytes: number; sha256: string }[];
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const stat = await fsp.stat(path);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

async function readInstallRecord(folder: string): Promise<InstallRecord | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(join(folder, INSTALL_RECORD), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as Partial<InstallRecord> | null;
    if (
      record?.format === 'genir-install' &&
      Array.isArray(record.files) &&
      record.files.every((f) => typeof f?.path === 'string' && typeof f.bytes === 'number' && typeof f.sha256 === 'string')
    ) {
      return record as InstallRecord;
    }
  } catch {
    // A damaged record says nothing; the pinned checksums still can.
  }
  return undefined;
}

/**
 * Why the dataset in `folder` cannot be used as it is: 'absent' when a file is missing, a
 * description of the first damaged file, or undefined when every file checks out. Files are
 * checked against the record written at install, else against the pinned checksums of the
 * reference layout (a folder copied in by hand).
 */
async function presentProblem(
  folder: string,
  required: readonly string[],
  pinned: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  for (const file of required) if ((await fileSize(join(folder, file))) === undefined) return 'absent';
  const record = await readInstallRecord(folder);
  const expected = record?.files ?? required.map((path) => ({ path, bytes: undefined, sha256: pinned[path] }));
  const against = record ? `as installed (${INSTALL_RECORD})` : 'the pinned checksum';
  for (const file of expected) {
    const path = join(folder, file.path);
    const size = await fileSize(path);
    if (size === undefined) return `${path} is missing`;
    if (file.bytes !== undefined && size !== file.bytes)
      return `${path} has ${size} bytes, ${file.bytes} ${against}: it is truncated or was changed`;
    if (file.sha256 !== undefined && (await sha256OfFile(path)) !== file.sha256)
      return `${path} does not match ${against}: it is damaged or was changed`;
  }
  return undefined;
}

/**
 * Removes what interrupted fetches left next to the data folders: stage folders of processes
 * that are gone, and legacy unowned ones older than a day. A dead process's moved-aside old
 * copy (`<stage>.old-<folder>`) goes back into place when that folder is missing, since it is
 * then the only copy.
 */
async function sweepStaleStages(parent: string, log?: (line: string) => void): Promise<void> {
  for (const stale of await deadTemps(parent, STAGE_PREFIX)) {
    const original = /^\.old-(.+)$/.exec(stale.suffix)?.[1];
    if (original !== undefined && !(await exists(join(parent, original)))) {
      await fsp.rename(stale.path, join(parent, original));
      log?.(`restored ${join(parent, original)} from an interrupted fetch (process ${stale.pid})`);
      continue;
    }
    await fsp.rm(stale.path, { recursive: true, force: true });
    log?.(`removed ${stale.path}, left by an interrupted fetch (process ${stale.pid})`);
  }
  let names: string[];
  try {
    names = await fsp.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^\.genir-fetch-[A-Za-z0-9]{6}$/.test(name)) continue;
    const path = join(parent, name);
    const stat = await fsp.stat(path).catch(() => undefined);
    if (stat === undefined || Date.now() - stat.mtimeMs < LEGACY_STAGE_AGE_MS) continue;
    await fsp.rm(path, { recursive: true, force: true });
    log?.(`removed ${path}, left by an interrupted fetch`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Downloads and verifies `sources`, extracts archives, records every file's size and sha256
 * in INSTALL_RECORD, and atomically installs the result as `folder` (replacing an incomplete
 * or damaged one). Folders and files get the usual modes (0755 and 0644 under umask 022), so
 * other users of a shared cache can read them. Exposed for tests and custom datasets.
 */
export async function installSources(sources: readonly DownloadSource[], folder: string, options: DownloadOptions = {}): Promise<string[]> {
  const settings = downloadSettings(options);
  const log = options.log;
  const parent = dirname(folder);
  await fsp.mkdir(parent, { recursive: true });
  await sweepStaleStages(parent, log);
  const stage = ownedTempPath(parent, STAGE_PREFIX);
  const forget = removeOnInterrupt(stage);
  try {
    // Not mkdtemp, which makes the folder 0700: the installed folder is this one, renamed.
    await fsp.mkdir(stage);
    const written: string[] = [];
    for (const source of sources) {
      log?.(`downloading ${source.url}`);
      const download = join(stage, '.download');
      await downloadWithRetries(source.url, download, source.checksum, settings, log);
      written.push(...(await unpack(source, download, stage)));
      await fsp.rm(download, { force: true });
    }
    const record: InstallRecord = {
      format: 'genir-install',
      installedAt: new Date().toISOString(),
      sources: sources.map((s) => s.url),
      files: [],
    };
    for (const path of written) {
      const full = join(stage, path);
      record.files.push({ path, bytes: (await fsp.stat(full)).size, sha256: await sha256OfFile(full) });
    }
    await fsp.writeFile(join(stage, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    replaceFolder(stage, folder);
    log?.(`installed ${written.length} file${written.length === 1 ? '' : 's'} in ${folder}`);
    return written;
  } finally {
    await fsp.rm(stage, { recursive: true, force: true });
    forget();
  }
}

/**
 * Swaps the staged folder into place; an older copy is moved aside first and removed after.
 * Synchronous, so that a signal handler cannot run between the two renames; the old copy's
 * name says which folder it was, so a sweep can put it back after a crash between them.
 */
function replaceFolder(stage: string, folder: string): void {
  const old = `${stage}.old-${basename(folder)}`;
  let hadOld = false;
  try {
    renameSync(folder, old);
    hadOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    renameSync(stage, folder);
  } catch (err) {
    if (hadOld) renameSync(old, folder);
    throw err;
  }
  if (hadOld) rmSync(old, { recursive: true, force: true });
}

/** A failed download attempt; `transient` failures are retried. */
class DownloadFailure extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** Failures that may pass by waiting: dropped or reset connections, unreachable networks, DNS hiccups, undici's own timeouts. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function describeNetworkError(err: unknown): { message: string; transient: boolean } {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException | undefined)?.code;
  return {
    message: code !== undefined && !message.includes(code) ? `${message} (${code})` : message,
    transient: code !== undefined && TRANSIENT_CODES.has(code),
  };
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

/** One attempt: headers within `timeoutMs`, then no silence longer than `idleTimeoutMs`. */
async function downloadOnce(url: string, dest: string, checksum: Checksum, settings: DownloadSettings): Promise<void> {
  const controller = new AbortController();
  let stalled: string | undefined;
  let timer = setTimeout(() => {
    stalled = `no response within ${seconds(settings.timeoutMs)}`;
    controller.abort();
  }, settings.timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow', signal: controller.signal });
    } catch (err) {
      const described = describeNetworkError(err);
      throw new DownloadFailure(stalled ?? described.message, stalled !== undefined || described.transient);
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      const transient = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new DownloadFailure(`HTTP ${response.status} ${response.statusText}`.trim(), transient);
    }
    const idle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = `no data for ${seconds(settings.idleTimeoutMs)}`;
        controller.abort();
      }, settings.idleTimeoutMs);
    };
    idle();
    const hash = createHash(checksum.algorithm);
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        idle();
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), hasher, createWriteStream(dest));
    } catch (err) {
      await fsp.rm(dest, { force: true });
      const described = describeNetworkError(err);
      throw new DownloadFailure(stalled ?? described.message, stalled !== undefined || described.transient);
    }
    const actual = hash.digest('hex');
    if (actual !== checksum.hex.toLowerCase()) {
      await fsp.rm(dest, { force: true });
      throw new UserError(
        `checksum mismatch for ${url}: expected ${checksum.algorithm} ${checksum.hex}, got ${actual}; the download was discarded and nothing was installed`,
      );
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Streams `url` to `dest` while hashing it, retrying transient failures (timeouts, dropped
 * connections, HTTP 5xx, 408, 429) with exponential backoff. A failure that remains, an HTTP
 * error or a checksum mismatch is a UserError, and `dest` is removed.
 */
export async function downloadVerified(url: string, dest: string, checksum: Checksum, options: DownloadOptions = {}): Promise<void> {
  return await downloadWithRetries(url, dest, checksum, downloadSettings(options), options.log);
}

async function downloadWithRetries(
  url: string,
  dest: string,
  checksum: Checksum,
  settings: DownloadSettings,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  const attempts = settings.retries + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      await downloadOnce(url, dest, checksum, settings);
      return;
    } catch (err) {
      if (!(err instanceof DownloadFailure)) throw err;
      if (!err.transient || attempt >= attempts) {
        const tries = attempt > 1 ? ` (gave up after ${attempt} attempts)` : '';
        const hint = err.message.startsWith('no ')
          ? '; allow longer with --timeout/--idle-timeout (GENIR_FETCH_TIMEOUT, GENIR_FETCH_IDLE_TIMEOUT) or try another --mirror'
          : '';
        throw new UserError(`could not download ${url}: ${err.message}${tries}${hint}`);
      }
      const delay = Math.min(settings.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
      log?.(`${url}: ${err.message}; retrying in ${seconds(delay)} (attempt ${attempt + 1} of ${attempts})`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function unpack(source: DownloadSource, download: string, stage: string): Promise<string[]> {
  if (source.kind === 'file') {
    if (source.target === undefined) throw new Error(`download source ${source.url} has no target`);
    await moveInto(download, stage, source.target);
    return [source.target];
  }
  const members = source.members ?? {};
  const bytes = new Uint8Array(await fsp.readFile(download));
  const entries = source.kind === 'zip' ? readZip(bytes, source.url) : readTarGz(bytes, source.url);
  const written: string[] = [];
  for (const [wanted, target] of Object.entries(members)) {
    const name = [...entries.keys()].find((entry) => entry === wanted || entry.endsWith(`/${wanted}`) || wanted.endsWith(`/${entry}`));
    if (name === undefined) throw new UserError(`${source.url}: the archive has no '${wanted}'`);
    const path = join(stage, target);
    await fsp.mkdir(dirname(path), { recursive: true });
    await fsp.writeFile(path, entries.get(name) as Uint8Array);
    written.push(target);
  }
  return written;
}

async function moveInto(file: string, stage: string, target: string): Promise<void> {
  const path = join(stage, target);
  await fsp.mkdir(dirname(path), { recursive: true });
  await fsp.rename(file, path);
}

function normalizeMemberName(name: string): string {
  return name.replace(/^(\.\/)+/, '');
}

/** The regular files of a zip archive by name (macOS resource forks skipped). */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (file) => !file.name.endsWith('/') && !file.name.startsWith('__MACOSX/') });
  } catch (err) {
    throw new UserError(`${source}: not a readable zip archive (${err instanceof Error ? err.message : String(err)})`);
  }
  return new Map(Object.entries(files).map(([name, data]) => [normalizeMemberName(name), data]));
}

const TAR_BLOCK = 512;

function tarString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
}

/**
 * The regular files of a gzipped tar archive (ustar, with GNU long names and pax
 * `path` records). Small archives only: the whole archive is decompressed in memory.
 */
export function readTarGz(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  let tar: Uint8Array;
  try {
    tar = new Uint8Array(gunzipSync(bytes));
  } catch (err) {
    throw new UserError(`${source}: not a readable gzip file (${err instanceof Error ? err.message : String(err)})`);
  }
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + TAR_BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + TAR_BLOCK);
    if (header.every((byte) => byte === 0)) break; // end-of-archive marker
    const sizeText = tarString(header, 124, 12).trim();
    if (!/^[0-7]*$/.test(sizeText)) throw new UserError(`${source}: corrupt tar header at byte ${offset}`);
    const size = sizeText === '' ? 0 : parseInt(sizeText, 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const prefix = tarString(header, 345, 155);
    const headerName = prefix !== '' ? `${prefix}/${tarString(header, 0, 100)}` : tarString(header, 0, 100);
    const dataStart = offset + TAR_BLOCK;
    if (dataStart + size > tar.length) throw new UserError(`${source}: truncated tar archive`);
    const data = tar.subarray(dataStart, dataStart + size);
    if (type === 'L') {
      longName = Buffer.from(data).toString('utf8').replace(/\0+$/, '');
    } else if (type === 'x') {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
      if (path) longName = path[1];
    } else {
      if (type === '0') files.set(normalizeMemberName(longName ?? headerName), data.slice());
      longName = undefined;
    }
    offset = dataStart + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
  return files;
}
