import { QueryLexemes } from './query-lexemes';

describe('QueryLexemes', () => {
  it('reads a query once while it is among the recent ones', async () => {
    const read = jest.fn(async (text: string) => text.split(' '));
    const lexemes = new QueryLexemes(read);
    expect(await lexemes.of('garden soil')).toEqual(['garden', 'soil']);
    expect(await lexemes.of('garden soil')).toEqual(['garden', 'soil']);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('forgets the least recently used query past its capacity', async () => {
    const read = jest.fn(async (text: string) => [text]);
    const lexemes = new QueryLexemes(read);
    await lexemes.of('first');
    for (let i = 0; i < 2000; i++) await lexemes.of(`q${i}`);
    await lexemes.of('first');
    expect(read).toHaveBeenCalledTimes(2002);
  });

  it('reads again after a failed reading', async () => {
    const read = jest.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValue(['garden']);
    const lexemes = new QueryLexemes(read);
    await expect(lexemes.of('garden')).rejects.toThrow('down');
    await new Promise((r) => setImmediate(r));
    expect(await lexemes.of('garden')).toEqual(['garden']);
    expect(read).toHaveBeenCalledTimes(2);
  });
});
