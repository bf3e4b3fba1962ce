import { addressRefusal, assertPublicUrl, UnsafeUrlError } from './url-safety';

describe('addressRefusal', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /cloud metadata/],
    ['169.254.1.1', /link-local/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['224.0.0.1', /multicast/],
    ['0.0.0.0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['::1', /loopback/],
    ['fe80::1', /link-local/],
    ['fd00:ec2::254', /unique local/],
    ['ff02::1', /multicast/],
    ['::', /unspecified/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:10.0.0.1', /private/],
    ['::ffff:169.254.169.254', /cloud metadata/],
    ['64:ff9b::a00:1', /reserved/],
  ])('refuses %s', (address, reason) => {
    expect(addressRefusal(address)).toMatch(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(addressRefusal(address)).toBeNull();
  });
});

describe('assertPublicUrl', () => {
  const lookup = (answers: Record<string, string[]>) => async (host: string) => {
    if (!(host in answers)) throw new Error('ENOTFOUND');
    return answers[host];
  };

  it('refuses a host when any of its addresses is private', async () => {
    const resolve = lookup({ 'mixed.example': ['93.184.216.34', '10.0.0.7'] });
    await expect(assertPublicUrl('https://mixed.example/hook', false, resolve)).rejects.toThrow(/mixed.example is refused: 10.0.0.7 is a private address/);
  });

  it('checks IP literals without a lookup, IPv6 in brackets included', async () => {
    const resolve = lookup({});
    await expect(assertPublicUrl('http://[::1]:8080/x', false, resolve)).rejects.toThrow(/::1 is a loopback address/);
    await expect(assertPublicUrl('http://0x7f000001/x', false, resolve)).rejects.toThrow(/127.0.0.1 is a loopback address/);
    await expect(assertPublicUrl('http://8.8.8.8/x', false, resolve)).resolves.toBeInstanceOf(URL);
  });

  it('refuses other schemes, credentials, unresolvable hosts and non-URLs', async () => {
    const resolve = lookup({});
    await expect(assertPublicUrl('ftp://example.com/', false, resolve)).rejects.toThrow(/only http and https/);
    await expect(assertPublicUrl('https://u:p@example.com/', false, resolve)).rejects.toThrow(/credentials/);
    await expect(assertPublicUrl('https://nowhere.invalid/', false, resolve)).rejects.toThrow(/does not resolve/);
    await expect(assertPublicUrl('/relative', false, resolve)).rejects.toBeInstanceOf(UnsafeUrlError);
  });

  it('lifts the address check, not the scheme check, when private networks are allowed', async () => {
    await expect(assertPublicUrl('http://127.0.0.1:9/x', true, lookup({}))).resolves.toBeInstanceOf(URL);
    await expect(assertPublicUrl('file:///etc/passwd', true, lookup({}))).rejects.toThrow(/only http and https/);
  });
});
