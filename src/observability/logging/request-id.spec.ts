import { requestIdFrom } from './request-id';

describe('requestIdFrom', () => {
  it("keeps the caller's id when it is printable and bounded", () => {
    expect(requestIdFrom('abc-123_x.y:z/1')).toBe('abc-123_x.y:z/1');
    expect(requestIdFrom(['first', 'second'])).toBe('first');
  });

  it('generates a UUID when none is sent, or one that could forge log fields', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(requestIdFrom(undefined)).toMatch(uuid);
    expect(requestIdFrom('has space')).toMatch(uuid);
    expect(requestIdFrom('"}{"level":"fatal')).toMatch(uuid);
    expect(requestIdFrom('x'.repeat(129))).toMatch(uuid);
  });
});
