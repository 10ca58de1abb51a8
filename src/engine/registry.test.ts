import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import './ops/index.js';
import { differentiableOpTypes, registerGradient, registerNonDifferentiable } from './registry.js';

/** src/engine/ops of the checkout, whether this test runs from src/ (tsx) or from dist/. */
function opsSourceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'src', 'engine', 'ops');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('registry.test: no src/engine/ops above the test file');
    dir = parent;
  }
}

test('registering an op type twice throws instead of silently replacing its rule', () => {
  assert.throws(() => registerGradient('Exp', () => []), /'Exp' already has a gradient rule/);
  assert.throws(() => registerNonDifferentiable('Shape'), /'Shape' already has a gradient rule/);
});

test('every differentiable op has a gradient check in the test file beside it (binary ops: in the table of binary.test.ts)', () => {
  const dir = opsSourceDir();
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const binaryTable = readFileSync(join(dir, 'binary.test.ts'), 'utf8');
  const inBinaryTable = (opType: string) => binaryTable.includes('checkGradients(') && binaryTable.includes(`opType: '${opType}'`);
  const types = differentiableOpTypes();
  assert.ok(types.length >= 30, `${types.length} differentiable op types`);
  const missing: string[] = [];
  for (const type of types) {
    const opType = type.includes('::') ? type.split('::')[1] : type;
    const file = sources.find((f) => readFileSync(join(dir, f), 'utf8').includes(`registerGradient('${opType}'`));
    assert.ok(file !== undefined, `no op file registers the gradient of ${type}`);
    const testFile = join(dir, file.replace(/\.ts$/, '.test.ts'));
    if (inBinaryTable(opType)) continue;
    if (!existsSync(testFile) || !readFileSync(testFile, 'utf8').includes('checkGradients(')) missing.push(`${type} (${file})`);
  }
  assert.deepEqual(missing, [], `differentiable ops without a gradient check: ${missing.join(', ')}`);
});
