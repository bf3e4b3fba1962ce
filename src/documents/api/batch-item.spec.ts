import { checkBatchItem } from './batch-item';

describe('checkBatchItem', () => {
  it('accepts a valid document as a typed DTO', () => {
    const checked = checkBatchItem({ content: 'text', chunking: { size: 100, overlap: 10 } }, 3);
    expect(checked).toMatchObject({ index: 3, dto: { content: 'text', chunking: { size: 100, overlap: 10 } } });
  });

  it('rejects what is not an object', () => {
    for (const raw of [null, 'text', 42, [{ content: 'x' }]]) expect(checkBatchItem(raw, 0)).toEqual({ index: 0, error: expect.stringMatching(/must be a JSON object/) });
  });

  it('words errors as the global ValidationPipe does, nested fields with their path', () => {
    const checked = checkBatchItem({ content: 'x', extra: 1, chunking: { size: 'big', overlap: 0, unit: 'tokens' } }, 1);
    expect('error' in checked && checked.error.split('; ').sort()).toEqual(
      ['chunking.property unit should not exist', 'chunking.size must be a whole number of characters', 'chunking.size must not be greater than 100000', 'chunking.size must not be less than 50', 'property extra should not exist'].sort(),
    );
  });
});
