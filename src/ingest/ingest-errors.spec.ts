import { UnrecoverableError } from 'bullmq';
import { QueryFailedError } from 'typeorm';
import { EmbeddingError } from '../embedding/embedding.errors';
import { PermanentIngestError, StageError, classifyError, isDocumentGone } from './ingest-errors';

const pgError = (code: string, message = 'db error'): QueryFailedError =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code }));

describe('classifyError', () => {
  it.each([
    ['a transient embedding error', new EmbeddingError('429', true), 'embedding_unavailable', true],
    ['a permanent embedding error', new EmbeddingError('400 bad input', false), 'embedding_rejected', false],
    ['a document with no text', new PermanentIngestError('no_text', 'empty'), 'no_text', false],
    ['an UnrecoverableError', new UnrecoverableError('no'), 'internal', false],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'database_unavailable', true],
    ['an admin shutdown (57P01)', pgError('57P01', 'terminating connection due to administrator command'), 'database_unavailable', true],
    ['a statement timeout (57014)', pgError('57014', 'canceling statement due to statement timeout'), 'timeout', true],
    ['invalid data (22021)', pgError('22021', 'invalid byte sequence'), 'database_rejected', false],
    ['an unknown bug', new TypeError('x is undefined'), 'internal', true],
  ])('classifies %s', (_name, err, errorClass, transient) => {
    expect(classifyError(err)).toMatchObject({ errorClass, transient });
    expect(classifyError(new StageError('embed', err))).toMatchObject({ errorClass, transient });
  });
});

describe('isDocumentGone', () => {
  const fk = (detail: string) =>
    new QueryFailedError('INSERT', [], Object.assign(new Error('violates foreign key constraint'), { code: '23503', detail }));

  it('is true for a foreign key to a deleted document, also inside a StageError', () => {
    const err = fk('Key (document_id)=(6f1c…) is not present in table "documents".');
    expect(isDocumentGone(err)).toBe(true);
    expect(isDocumentGone(new StageError('write', err))).toBe(true);
  });

  it('is false for other foreign keys and other errors', () => {
    expect(isDocumentGone(fk('Key (generation_id)=(3) is not present in table "embedding_generations".'))).toBe(false);
    expect(isDocumentGone(pgError('23505'))).toBe(false);
    expect(isDocumentGone(new Error('boom'))).toBe(false);
  });
});
