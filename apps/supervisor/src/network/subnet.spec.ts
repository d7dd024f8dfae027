import { defaultGateway, formatSubnet, hostRouteSubnets, parseSubnet, pickFreeSubnet, subnetsOverlap, validateGateway } from './subnet';

describe('subnet arithmetic', () => {
  it('parses CIDR and refuses host bits, odd prefixes and IPv6', () => {
    expect(parseSubnet('10.88.0.0/16')).toEqual({ base: 10 * 2 ** 24 + 88 * 2 ** 16, prefix: 16 });
    expect(() => parseSubnet('10.88.0.1/16')).toThrow('has host bits set; did you mean 10.88.0.0/16?');
    expect(() => parseSubnet('10.0.0.0/31')).toThrow('prefix /31 must be between /8 and /30');
    expect(() => parseSubnet('10.0.0.0')).toThrow('is not IPv4 CIDR');
    expect(() => parseSubnet('300.0.0.0/8')).toThrow('"300.0.0.0" is not an IPv4 address');
  });

  it('detects overlap in both directions and not for neighbours', () => {
    const a = parseSubnet('10.1.0.0/16');
    expect(subnetsOverlap(a, parseSubnet('10.1.200.0/24'))).toBe(true);
    expect(subnetsOverlap(parseSubnet('10.0.0.0/8'), a)).toBe(true);
    expect(subnetsOverlap(a, parseSubnet('10.2.0.0/16'))).toBe(false);
    expect(subnetsOverlap(parseSubnet('10.0.255.252/30'), a)).toBe(false);
  });

  it('checks gateways and picks free /24s from a pool', () => {
    const s = parseSubnet('192.168.5.0/24');
    expect(defaultGateway(s)).toBe('192.168.5.1');
    expect(() => validateGateway(s, '192.168.5.0')).toThrow('is the network or broadcast address');
    expect(() => validateGateway(s, '192.168.5.255')).toThrow('is the network or broadcast address');
    expect(() => validateGateway(s, '192.168.6.1')).toThrow('outside subnet 192.168.5.0/24');
    const pool = parseSubnet('10.89.0.0/22');
    const taken = [parseSubnet('10.89.0.0/24'), parseSubnet('10.89.1.128/25')];
    expect(formatSubnet(pickFreeSubnet(pool, taken)!)).toBe('10.89.2.0/24');
    expect(pickFreeSubnet(pool, [pool])).toBeUndefined();
  });

  it('reads the host routes (default route left out) from /proc/net/route', () => {
    const table =
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
      'eth1\t0000590A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n';
    expect(hostRouteSubnets(table).map(formatSubnet)).toEqual(['192.0.2.0/24', '10.89.0.0/16']);
  });
});
