import { stageDuration } from '../../observability/metrics/service-metrics';
import { GenerationChangedError } from '../../vector-store/generations/generation';
import { IngestStage, StageError } from '../ingest-errors';

/** Runs one pipeline stage, tagging any error with the stage's name for the attempt history. */
export async function stage<T>(name: IngestStage, work: () => Promise<T> | T): Promise<T> {
  const timer = stageDuration.startTimer({ stage: name });
  try {
    return await work();
  } catch (err) {
    // A generation change is a signal to prepare again, not a failure of this stage.
    if (err instanceof StageError || err instanceof GenerationChangedError) throw err;
    throw new StageError(name, err);
  } finally {
    timer();
  }
}
