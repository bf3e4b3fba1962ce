import { currentRequestId, logContextFields, runWithLogContext, setLogDocument } from './log-context';

describe('log context', () => {
  it('adds nothing outside a request or job', () => {
    expect(logContextFields()).toEqual({});
    setLogDocument('d', 1);
    expect(logContextFields()).toEqual({});
  });

  it('in a job, carries the request id and the document version', async () => {
    await runWithLogContext({ requestId: 'r1', documentId: 'd1', version: 2 }, async () => {
      await Promise.resolve();
      expect(logContextFields()).toEqual({ requestId: 'r1', documentId: 'd1', version: 2 });
      expect(currentRequestId()).toBe('r1');
    });
  });

  it('in a request, adds the document once known and leaves the request id to pino-http', () => {
    runWithLogContext({ requestId: 'r2', fromRequest: true }, () => {
      expect(logContextFields()).toEqual({});
      setLogDocument('d2', 3);
      expect(logContextFields()).toEqual({ documentId: 'd2', version: 3 });
      expect(currentRequestId()).toBe('r2');
    });
  });
});
