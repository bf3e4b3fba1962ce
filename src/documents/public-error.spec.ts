import { publicErrorMessage } from './public-error';

describe('publicErrorMessage', () => {
  it('hides raw database and internal text behind a message chosen by class', () => {
    const raw = 'insert or update on table "document_attempts" violates foreign key constraint "document_attempts_document_id_fkey"';
    expect(publicErrorMessage('database_rejected', raw)).toBe('the database refused to store this document');
    expect(publicErrorMessage('internal', 'TypeError: x at /app/dist/src/…')).toMatch(/^an internal error occurred/);
    expect(publicErrorMessage(null, 'anything')).toMatch(/^an internal error occurred/);
  });

  it('shows messages the service writes for callers, cut to 300 characters', () => {
    expect(publicErrorMessage('too_large', 'the document makes more than 10 chunks (12)')).toBe('the document makes more than 10 chunks (12)');
    expect(publicErrorMessage('embedding_rejected', 'x'.repeat(1000))).toHaveLength(301);
  });

  it('keeps "no error" as null', () => {
    expect(publicErrorMessage('internal', null)).toBeNull();
  });
});
