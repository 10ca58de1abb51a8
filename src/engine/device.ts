/**
 * Where ONNX Runtime runs the graphs: `cpu` (the default) or `cuda` (ORT's CUDA execution
 * provider, when onnxruntime-node was installed with its CUDA binaries). CUDA sessions keep
 * the CPU provider as the fallback for any node CUDA does not implement.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';

export type Device = 'cpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'cuda'];

/** How a user gets the CUDA provider: the npm package downloads it only when asked (and this repository's .npmrc skips install scripts). */
export const CUDA_INSTALL_HINT =
  'on a machine with internet and CUDA 12 + cuDNN 9, run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false` ' +
  '(or `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --ignore-scripts=false`)';

export function parseDevice(value: string, option = '--device'): Device {
  if (!(DEVICES as readonly string[]).includes(value)) throw new UserError(`${option} ${value}: expected ${DEVICES.join(' or ')}`);
  return value as Device;
}

/** The folder of onnxruntime-node's native binaries for this platform, or undefined. */
function nativeBinaryDir(): string | undefined {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(dirname(require.resolve('onnxruntime-node')));
  } catch {
    return undefined;
  }
  const bin = join(root, 'bin');
  if (!existsSync(bin)) return undefined;
  for (const napi of readdirSync(bin)) {
    const dir = join(bin, napi, process.platform, process.arch);
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

/** The library file of ORT's CUDA provider on this platform. */
function cudaProviderFile(): string {
  return process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
}

/**
 * Throws a one-line UserError when `device` cannot be used: for cuda, when onnxruntime-node's
 * CUDA provider binaries are not installed.
 */
export function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const dir = nativeBinaryDir();
  if (dir === undefined || !existsSync(join(dir, cudaProviderFile()))) {
    throw new UserError(
      `--device cuda: onnxruntime-node has no CUDA provider (${cudaProviderFile()} is not in ${dir ?? 'its bin folder'}); ${CUDA_INSTALL_HINT}`,
    );
  }
}

/** ORT execution providers for `device`, best first. */
export function executionProviders(device: Device): string[] {
  return device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
}
