import { QueryFailedError } from 'typeorm';
import { isDatabaseBusy } from './database-busy';

const pgError = (code: string, message: string): QueryFailedError =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code }));

describe('isDatabaseBusy', () => {
  it('is true for a statement or lock timeout and for no pooled connection in time', () => {
    expect(isDatabaseBusy(pgError('57014', 'canceling statement due to statement timeout'))).toBe(true);
    expect(isDatabaseBusy(pgError('55P03', 'canceling statement due to lock timeout'))).toBe(true);
    expect(isDatabaseBusy(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('is false for errors that are not about load', () => {
    expect(isDatabaseBusy(pgError('23505', 'duplicate key'))).toBe(false);
    expect(isDatabaseBusy(new TypeError('x is undefined'))).toBe(false);
  });
});
