import { PermanentIngestError } from '../../ingest/ingest-errors';
import { extractInThread } from './extraction-thread.runner';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const GENEROUS = { timeoutMs: 60000, memoryMb: 512 };

describe('extractInThread', () => {
  it('returns the text a thread extracted', async () => {
    await expect(extractInThread({ mimeType: 'text/html', data: encode('<h2>Usage</h2><p>Run it.</p>') }, GENEROUS)).resolves.toEqual({
      text: '## Usage\n\nRun it.',
    });
  });

  it('fails for good with unreadable_file when the parser refuses the bytes', async () => {
    const err = await extractInThread({ mimeType: 'application/json', data: encode('{"open": ') }, GENEROUS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentIngestError);
    expect(err).toMatchObject({ errorClass: 'unreadable_file', message: expect.stringContaining('not valid JSON') });
  });

  it('fails for good with extract_out_of_memory when the thread passes its heap limit', async () => {
    const tight = { timeoutMs: 60000, memoryMb: 48 };
    // The thread itself fits: a small file is extracted under the same limit.
    await expect(extractInThread({ mimeType: 'application/json', data: encode('[{"k":1}]') }, tight)).resolves.toEqual({ text: '[\n  {\n    "k": 1\n  }\n]' });
    // Indenting a JSON array of 2M small objects builds far more than 48 MB of heap.
    const huge = encode(`[${Array.from({ length: 2_000_000 }, () => '{"k":1}').join(',')}]`);
    const err = await extractInThread({ mimeType: 'application/json', data: huge }, tight).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentIngestError);
    expect(err).toMatchObject({ errorClass: 'extract_out_of_memory' });
  });
});
