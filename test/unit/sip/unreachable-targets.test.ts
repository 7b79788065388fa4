import { describe, expect, it } from 'vitest';
import { UNREACHABLE_FOR_MS, UnreachableTargets } from '../../../service/sip/unreachable-targets.js';
import type { ResolvedHop } from '../../../service/sip/next-hop-resolver.js';

const hop = (port: number, protocol: ResolvedHop['protocol'] = 'UDP'): ResolvedHop => ({
  protocol,
  address: '192.0.2.1',
  port,
});

describe('targets that could not be reached', () => {
  it('go to the back of the list, the others keeping their DNS order', () => {
    const targets = new UnreachableTargets(() => 0);
    targets.mark(hop(5060));
    expect(targets.order([hop(5060), hop(5062), hop(5064)]).map((t) => t.port)).toEqual([5062, 5064, 5060]);
  });

  it('are still tried, last, when every target is down', () => {
    const targets = new UnreachableTargets(() => 0);
    targets.mark(hop(5062));
    targets.mark(hop(5060));
    expect(targets.order([hop(5060), hop(5062)]).map((t) => t.port)).toEqual([5060, 5062]);
  });

  it('get their place back once their time is up', () => {
    let now = 1000;
    const targets = new UnreachableTargets(() => now);
    targets.mark(hop(5060));
    now += UNREACHABLE_FOR_MS - 1;
    expect(targets.order([hop(5060), hop(5062)])[0]?.port).toBe(5062);
    now += 1;
    expect(targets.order([hop(5060), hop(5062)])[0]?.port).toBe(5060);
  });

  it('are told apart by transport as well as address and port', () => {
    const targets = new UnreachableTargets(() => 0);
    targets.mark(hop(5060, 'UDP'));
    expect(targets.order([hop(5060, 'TCP'), hop(5062, 'TCP')])[0]).toEqual(hop(5060, 'TCP'));
  });
});
