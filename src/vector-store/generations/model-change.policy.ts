import { EmbeddingSpec, sameModel, specFromModelId } from '../../embedding/embedding-spec';
import { Generation, describeModel } from './generation';

/** What a process finds at start, read under the generations lock. */
export interface StartFacts {
  /** The model this process is configured with. */
  wanted: EmbeddingSpec;
  active: Generation | null;
  building: Generation | null;
  /** The newest generation of the wanted model set aside since `active` (retired, or cancelled), if any. */
  setAside: Generation | null;
  /** Dimension of `chunks.embedding`, or null if the table is missing (only read when there is no active generation). */
  columnDimension: number | null;
  /** Whether `chunks` holds rows (only read when there is no active generation). */
  hasChunks: boolean;
  allowModelMismatch: boolean;
  onModelChange: 'reindex' | 'refuse';
}

/** What to do about it. */
export type StartDecision =
  /** A new deployment: record the wanted model as active, resizing the empty vector column first if needed. */
  | { action: 'create-active'; resizeTo: number | null }
  /** Carry on serving the active generation; `mismatch` lets the configured provider serve it (ALLOW_MODEL_MISMATCH). */
  | { action: 'serve'; recordSpec: EmbeddingSpec | null; mismatch: boolean; warning: string | null; note: string | null }
  /** Start re-embedding every document into a generation of the wanted model. */
  | { action: 'start-reindex'; recordSpec: EmbeddingSpec | null; warning: string }
  /** Refuse to start, with how to proceed. */
  | { action: 'refuse'; message: string };

/**
 * Reconciles the configured model with the stored vectors at start. The same model
 * carries on; a new one starts a re-embed (EMBEDDING_MODEL_CHANGE=reindex) or refuses
 * to start with how to migrate. A process never undoes a change on its own: a model an
 * earlier re-embed replaced or whose re-embed was cancelled, or a change while a
 * re-embed to another model runs, starts nothing and serves the current generation.
 */
export function decideAtStart(f: StartFacts): StartDecision {
  const { wanted } = f;
  if (!f.active) {
    if (f.columnDimension === null) return { action: 'refuse', message: 'the chunks table is missing: run the migrations (npm run migrate)' };
    if (f.hasChunks) {
      return { action: 'refuse', message: 'chunks exist but no embedding generation records them: run the migrations (npm run migrate)' };
    }
    return { action: 'create-active', resizeTo: f.columnDimension === wanted.dimension ? null : wanted.dimension };
  }
  // Vectors stored before generations kept a spec: record one where the model says it all.
  const recordSpec = f.active.spec ? null : sameModel(f.active, wanted) ? wanted : specFromModelId(f.active.modelId, f.active.dimension) ?? null;
  const active = recordSpec ? { ...f.active, spec: recordSpec } : f.active;
  const serve = (warning: string | null, note: string | null = null, mismatch = false): StartDecision => ({
    action: 'serve',
    recordSpec,
    mismatch,
    warning,
    note,
  });
  if (sameModel(active, wanted)) return serve(null);

  const change = `stored vectors were made by ${describeModel(active)}, but the configured model is ${describeModel(wanted)}`;
  if (f.allowModelMismatch) {
    if (active.dimension !== wanted.dimension) {
      return { action: 'refuse', message: `${change}: ALLOW_MODEL_MISMATCH cannot mix dimensions; unset it to re-embed into a new generation` };
    }
    return serve(`${change}; ALLOW_MODEL_MISMATCH=true: searching them with the configured model`, null, true);
  }
  if (f.onModelChange === 'refuse') {
    return {
      action: 'refuse',
      message:
        `${change}: start with EMBEDDING_MODEL_CHANGE=reindex to re-embed every document into a new generation while search ` +
        `answers from the current one (progress: GET /v1/reindex), or configure ${active.modelId} again`,
    };
  }
  if (!active.spec) {
    return {
      action: 'refuse',
      message:
        `${change}, and ${active.modelId} was recorded before this service kept what it needs to embed queries ` +
        `during a re-embed: configure ${active.modelId} again and restart once, then change the model`,
    };
  }
  if (f.building && sameModel(f.building, wanted)) return serve(null, `${change}: resuming the re-embed into generation ${f.building.id}`);
  // Processes never undo each other's model change: one with an out-of-date or different
  // configuration serves the current generation and leaves the choice to an operator.
  if (f.building) {
    return serve(`${change}, and a re-embed into ${describeModel(f.building)} is running: leaving it be; serving ${describeModel(active)}`);
  }
  if (f.setAside) {
    const what = f.setAside.status === 'cancelled' ? 'a re-embed into it was cancelled' : `generation ${f.setAside.id} was replaced`;
    return serve(
      `${change}; ${what} (${f.setAside.finishedAt?.toISOString() ?? '?'}): serving ${describeModel(active)}; ` +
        `POST /v1/reindex to change to the configured model`,
    );
  }
  return { action: 'start-reindex', recordSpec, warning: `${change}: re-embedding every document into a new generation; search answers from ${active.modelId} until it is complete` };
}
