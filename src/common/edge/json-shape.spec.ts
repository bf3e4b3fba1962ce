import { MAX_JSON_KEYS, jsonValueProblem } from './json-shape';

/** An object of `n` distinct keys. */
const keys = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

describe('jsonValueProblem key budget', () => {
  it('refuses a body with more than MAX_JSON_KEYS keys', () => {
    expect(jsonValueProblem({ content: 'x', metadata: keys(MAX_JSON_KEYS) }, 'request body')).toBe(`request body has more than ${MAX_JSON_KEYS} keys`);
  });

  it('gives each document of a batch a budget of its own', () => {
    const documents = Array.from({ length: 20 }, () => ({ content: 'x', title: 't', metadata: keys(100) }));
    expect(jsonValueProblem({ documents }, 'request body')).toBeNull();
  });

  it('names the batch item that holds too many keys', () => {
    const documents = [{ content: 'x' }, { content: 'x', metadata: keys(MAX_JSON_KEYS) }];
    expect(jsonValueProblem({ documents }, 'request body')).toBe(`documents[1] has more than ${MAX_JSON_KEYS} keys`);
  });

  it('still counts keys in nested arrays against their item', () => {
    const documents = [{ content: 'x', metadata: { tags: Array.from({ length: 3 }, () => keys(400)) } }];
    expect(jsonValueProblem({ documents }, 'request body')).toBe(`documents[0] has more than ${MAX_JSON_KEYS} keys`);
  });
});
