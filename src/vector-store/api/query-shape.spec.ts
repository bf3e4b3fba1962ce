import { quotesIdentifier } from './query-shape';

describe('quotesIdentifier', () => {
  it.each([
    'what does --no-preserve-root do',
    'ERR_STREAM_PREMATURE_CLOSE',
    'process crashed with ERR_WORKER_OUT_OF_MEMORY',
    'dns.setDefaultResultOrder ipv4first',
    'execFileSync example',
    'AsyncLocalStorage enterWith',
    'how do I call fsync()',
    'wasi version preview1',
    'SQLSTATE 40P01',
  ])('recognises an identifier in %p', (q) => expect(quotesIdentifier(q)).toBe(true));

  it.each([
    'How do I bring a database back from a dump?',
    'Warning that too many listeners were added, possible memory leak',
    'which planet has a storm bigger than our world?',
    'Escape special characters of a query parameter with the standard web address API',
    'self-hosted models and rate limits',
    'Run a WebAssembly program from JavaScript',
    'the 2nd replica of a 64bit build with 16GB',
  ])('treats prose as prose: %p', (q) => expect(quotesIdentifier(q)).toBe(false));
});
