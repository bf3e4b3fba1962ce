import * as path from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

/**
 * Evaluated as the worker's code when the caller runs from TypeScript sources (ts-jest, no
 * build): installs a `.ts` require hook based on `typescript`'s transpileModule and loads
 * the .ts worker entry. Compiled builds (`dist/…/*.js`) start the compiled worker file
 * directly, so production never needs the `typescript` devDependency.
 */
const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const ts = require(require.resolve('typescript', { paths: [workerData.entry] }));
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  });
  module._compile(out.outputText, filename);
};
require(workerData.entry);
`;

/**
 * Starts the worker thread whose entry is `<dir>/<name>.js`, or `<name>.ts` when `callerFile`
 * (the caller's `__filename`) is TypeScript. `workerData` must be an object: `entry` is added to it.
 */
export function startWorkerThread(callerFile: string, name: string, options: WorkerOptions & { workerData?: object } = {}): Worker {
  const ext = path.extname(callerFile);
  const entry = path.join(path.dirname(callerFile), `${name}${ext}`);
  if (ext === '.ts') return new Worker(TS_BOOTSTRAP, { ...options, eval: true, workerData: { ...options.workerData, entry } });
  return new Worker(entry, options);
}
