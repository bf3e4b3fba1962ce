import { REDACTED, redact } from './redact';

describe('redact', () => {
  it('replaces every occurrence of each secret', () => {
    expect(redact('Incorrect API key provided: sk-secret-123 (sk-secret-123)', ['sk-secret-123'])).toBe(
      `Incorrect API key provided: ${REDACTED} (${REDACTED})`,
    );
  });

  it('leaves text alone without secrets, and ignores values too short to be one', () => {
    expect(redact('nothing to hide', [undefined, 'a', ''])).toBe('nothing to hide');
  });
});
