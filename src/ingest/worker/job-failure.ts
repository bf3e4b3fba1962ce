import { UnrecoverableError } from 'bullmq';
import { ClassifiedError, StageError, classifyError } from '../ingest-errors';
import { currentDeadline } from './job-deadline';
import { JobTries } from './queue-worker.host';

/** A job's failure as the processors record it, and the error that tells BullMQ what to do. */
export interface JobFailure extends ClassifiedError {
  /** The pipeline stage it failed at, if known. */
  stage: string | null;
  /** No retry follows: the error is permanent, or this was the last attempt. */
  final: boolean;
  /** Throw this: the original error to retry, an `UnrecoverableError` to stop. */
  rethrow: Error;
}

/** Classifies a job's error and decides whether it is final (shared by every processor). */
export function jobFailure(err: unknown, tries: JobTries): JobFailure {
  const failure = classifiedAgainstDeadline(err);
  const final = !failure.transient || tries.made + 1 >= tries.allowed;
  const rethrow = failure.transient
    ? err instanceof Error
      ? err
      : new Error(failure.message)
    : new UnrecoverableError(`${failure.errorClass}: ${failure.message}`);
  return { ...failure, stage: err instanceof StageError ? err.stage : null, final, rethrow };
}

/** Whatever error a job sees once its deadline cut its connections, the cause is the deadline: class `timeout`, retried. */
function classifiedAgainstDeadline(err: unknown): ClassifiedError {
  const failure = classifyError(err);
  const deadline = currentDeadline();
  if (!deadline?.expired) return failure;
  return { errorClass: 'timeout', transient: true, message: `job exceeded its deadline of ${deadline.limitMs} ms and was aborted (${failure.message})` };
}
