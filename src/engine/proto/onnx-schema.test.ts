import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descriptorFromProto } from './descriptor.js';
import { onnxSchemaDescriptor } from './onnx-schema.js';

// Tests run from src/ (tsx) or dist/src/ (npm test); the .proto file stays in src/.
function protoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'onnx.proto'), join(here, '..', '..', '..', '..', 'src', 'engine', 'proto', 'onnx.proto')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`onnx.proto not found at ${candidates.join(' or ')}`);
  return found;
}

test('onnx-schema.ts is the descriptor of the vendored official onnx.proto (regenerate with generate-schema.ts)', () => {
  const source = readFileSync(protoPath(), 'utf8');
  assert.match(source, /package onnx;/);
  assert.deepEqual(descriptorFromProto(source), onnxSchemaDescriptor);
});
