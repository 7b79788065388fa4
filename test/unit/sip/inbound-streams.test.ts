import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_INBOUND_STREAMS,
  refusalLog,
  withCappedStreamServers,
} from '../../../service/sip/inbound-streams.js';

describe('capping the servers the sip package starts', () => {
  it('gives the servers made inside the call the cap, hands back what the call returned, and puts net.createServer back', () => {
    const before = net.createServer;
    const made = withCappedStreamServers(
      () => [net.createServer(), net.createServer()],
      () => undefined,
    );
    expect(made.map((s) => s.maxConnections)).toEqual([MAX_INBOUND_STREAMS, MAX_INBOUND_STREAMS]);
    expect(net.createServer).toBe(before);
    expect(net.createServer().maxConnections).not.toBe(MAX_INBOUND_STREAMS);
  });

  it('puts net.createServer back when the call throws', () => {
    const before = net.createServer;
    expect(() =>
      withCappedStreamServers(
        () => {
          throw new Error('bind failed');
        },
        () => undefined,
      ),
    ).toThrow('bind failed');
    expect(net.createServer).toBe(before);
  });
});

describe('logging refused connections', () => {
  afterEach(() => vi.useRealTimers());

  it('logs the first refusal at once and a flood as one line per interval with its count', () => {
    vi.useFakeTimers();
    const lines: [number, string][] = [];
    const refused = refusalLog((count, remote) => lines.push([count, remote]), Date.now, 10_000);
    refused('10.0.0.9:40000');
    expect(lines).toEqual([[1, '10.0.0.9:40000']]);
    for (let i = 1; i <= 500; i++) {
      refused(`10.0.0.9:${40000 + i}`);
    }
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(lines).toEqual([
      [1, '10.0.0.9:40000'],
      [500, '10.0.0.9:40500'],
    ]);
    vi.advanceTimersByTime(60_000);
    refused('10.0.0.7:5060');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toEqual([1, '10.0.0.7:5060']);
  });
});
