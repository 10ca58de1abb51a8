// The import order of src/ (docs/development.md, "Layout"), enforced: a file may import
// files of its own layer or of a lower one, never of a higher one, and no two files and no two
// folders import each other, directly or round a longer cycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Lowest first. A file belongs to the layer of the longest prefix that matches its path under
 * src/; `train/` alone catches the training methods (train/methods and any new method folder),
 * so a new trainer lands above the loop and the sources without editing this list. Files
 * directly under src/ (index.ts, this test) are the top.
 */
export const LAYERS: readonly string[] = [
  'util/',
  'data/',
  'text/',
  'eval/',
  'bm25/',
  'docids/',
  'engine/',
  'model/',
  'retriever/',
  'search/',
  'train/loop/',
  'train/sources/',
  'train/',
  'experiments/',
  'serve/',
  'cli/',
  '',
];

export interface SourceImport {
  /** Path under src/ of the imported file, with `/` separators. */
  target: string;
  /** `import type` / `export type`: needed by the typechecker only, absent at run time. */
  typeOnly: boolean;
}

export function layerOf(file: string): number {
  let best = -1;
  LAYERS.forEach((prefix, index) => {
    if (file.startsWith(prefix) && (best < 0 || prefix.length > LAYERS[best].length)) best = index;
  });
  return best;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((e) => e.isTypeOnly)
  );
}

/** The relative imports of one file (static, re-exports and dynamic `import()`), resolved to paths under src/. */
export function importsOf(file: string, text: string): SourceImport[] {
  const found: SourceImport[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    if (!specifier.startsWith('.')) return;
    const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
    found.push({ target, typeOnly });
  };
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, isTypeOnlyImport(node));
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier))
      add(node.moduleSpecifier.text, node.isTypeOnly);
    else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0])
    )
      add(node.arguments[0].text, false);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Tests and their fixtures (`*.test.ts`, anything under a `testdata/` folder) drive the code
 * from above: a search test spawns the CLI, a serve test builds a model with the CLI's fixture.
 * Nothing imports them, so they add no edge that the layers or the cycles care about.
 */
export function isTestCode(file: string): boolean {
  return file.endsWith('.test.ts') || file.split('/').includes('testdata');
}

/** Imports from a layer above the importing file, one line each. */
export function layerViolations(imports: ReadonlyMap<string, readonly SourceImport[]>): string[] {
  const problems: string[] = [];
  for (const [file, list] of imports) {
    if (isTestCode(file)) continue;
    const own = layerOf(file);
    for (const { target } of list) {
      const theirs = layerOf(target);
      if (theirs > own)
        problems.push(
          `src/${file} imports src/${target}: layer '${LAYERS[own] || '(src root)'}' sits below '${LAYERS[theirs] || '(src root)'}'`,
        );
    }
  }
  return problems;
}

/** One cycle per strongly connected component of more than one node (Tarjan), as `a -> b -> … -> a`. */
export function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component);
    }
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) connect(node);
  return components.map((component) => describeCycle(component, edges));
}

/** A path round one strongly connected component, starting at its first node in sort order. */
function describeCycle(component: readonly string[], edges: ReadonlyMap<string, ReadonlySet<string>>): string {
  const members = new Set(component);
  const start = [...component].sort()[0];
  // Breadth-first from start back to start inside the component gives a shortest cycle through it.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (!members.has(next) || previous.has(next)) continue;
      previous.set(next, node);
      if (next === start) queue.length = 0;
      else queue.push(next);
    }
  }
  const between: string[] = [];
  for (let node = previous.get(start)!; node !== start; node = previous.get(node)!) between.unshift(node);
  return [start, ...between, start].join(' -> ');
}

/**
 * The part of the architecture a file belongs to, for the cycle check between parts: its
 * top-level folder (a stage's own sub-folders, such as engine/ops or cli/commands, are
 * internal to it), except under train/, where the loop and each source and each method are
 * parts of their own (train/loop, train/sources/negatives, train/methods/rank, train/<new method>).
 */
export function partOf(file: string): string {
  const segments = file.split('/');
  if (segments.length === 1) return '(src root)';
  if (segments[0] !== 'train' || segments.length === 2) return segments[0];
  const depth = (segments[1] === 'methods' || segments[1] === 'sources') && segments.length > 3 ? 3 : 2;
  return segments.slice(0, depth).join('/');
}

/** Run-time import edges between files, and all import edges between parts (partOf). */
export function importGraphs(imports: ReadonlyMap<string, readonly SourceImport[]>): {
  files: Map<string, Set<string>>;
  folders: Map<string, Set<string>>;
} {
  const files = new Map<string, Set<string>>();
  const folders = new Map<string, Set<string>>();
  const link = (graph: Map<string, Set<string>>, from: string, to: string): void => {
    if (from === to) return;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  };
  for (const [file, list] of imports) {
    if (isTestCode(file)) continue;
    for (const { target, typeOnly } of list) {
      // A type-only import is erased before the module runs, so it cannot take part in an
      // initialisation-order cycle between files; between folders it still counts.
      if (!typeOnly) link(files, file, target);
      link(folders, partOf(file), partOf(target));
    }
  }
  return { files, folders };
}

/** The checkout's src/, whether this test runs from src/ (tsx) or from dist/src/. */
function sourceRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'index.ts'))) return join(dir, 'src');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('layers.test: no src/index.ts above the test file');
    dir = parent;
  }
}

function sourceImports(): Map<string, SourceImport[]> {
  const root = sourceRoot();
  const imports = new Map<string, SourceImport[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const file = relative(root, path).split(sep).join('/');
        imports.set(file, importsOf(file, readFileSync(path, 'utf8')));
      }
    }
  };
  walk(root);
  return imports;
}

const imports = sourceImports();

test('every import under src/ points to its own layer or a lower one', () => {
  assert.ok(imports.size > 200, `${imports.size} source files`);
  assert.deepEqual(layerViolations(imports), []);
});

test('no import cycle between files (run-time imports) or between parts (all imports)', () => {
  const { files, folders } = importGraphs(imports);
  assert.deepEqual(cycles(files), [], 'file cycles');
  assert.deepEqual(cycles(folders), [], 'folder cycles');
});

test('every relative import names a file that exists', () => {
  const missing = [...imports].flatMap(([file, list]) =>
    list.filter(({ target }) => !imports.has(target)).map(({ target }) => `src/${file} -> src/${target}`),
  );
  assert.deepEqual(missing, []);
});

test('the checks catch an upward import, a file cycle and a folder cycle', () => {
  const sample = new Map<string, SourceImport[]>([
    [
      'data/trec.ts',
      importsOf('data/trec.ts', "import { evaluateRun } from '../eval/metrics.js';\nimport type { Run } from './types.js';"),
    ],
    ['eval/metrics.ts', importsOf('eval/metrics.ts', "import type { Run } from '../data/types.js';")],
    ['data/types.ts', []],
    ['search/a.ts', importsOf('search/a.ts', "export { b } from './b.js';")],
    ['search/b.ts', importsOf('search/b.ts', "const a = await import('./a.js');")],
    ['train/sft/x.ts', importsOf('train/sft/x.ts', "import type { Y } from '../rank/y.js';")],
    ['train/rank/y.ts', importsOf('train/rank/y.ts', "import { x } from '../sft/x.js';")],
    ['data/trec.test.ts', importsOf('data/trec.test.ts', "import { runGenir } from '../cli/testing.js';")],
  ]);
  assert.deepEqual(layerViolations(sample), ["src/data/trec.ts imports src/eval/metrics.ts: layer 'data/' sits below 'eval/'"]);
  const { files, folders } = importGraphs(sample);
  assert.deepEqual(cycles(files), ['search/a.ts -> search/b.ts -> search/a.ts']);
  assert.deepEqual(cycles(folders), ['data -> eval -> data', 'train/rank -> train/sft -> train/rank']);
  assert.equal(layerOf('train/reinforced-ir/loop.ts'), LAYERS.indexOf('train/'));
  assert.equal(layerOf('train/loop/trainer.ts'), LAYERS.indexOf('train/loop/'));
  assert.equal(layerOf('index.ts'), LAYERS.length - 1);
  assert.deepEqual(
    [
      'engine/ops/add.ts',
      'train/methods/rank/graph.ts',
      'train/sources/negatives/bm25.ts',
      'train/loop/trainer.ts',
      'train/reinforced-ir/x.ts',
      'index.ts',
    ].map(partOf),
    ['engine', 'train/methods/rank', 'train/sources/negatives', 'train/loop', 'train/reinforced-ir', '(src root)'],
  );
});
