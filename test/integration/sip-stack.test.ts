import { createSocket, type Socket } from 'node:dgram';
import type * as sip from 'sip';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../service/log/logger.js';
import { SipStack } from '../../service/sip/stack.js';
import { waitFor } from '../harness/process.js';

let stack: SipStack | undefined;
let peer: Socket | undefined;

/** An OPTIONS from `from` to `to`, with a Call-ID of its own. */
function optionsFrom(from: string, to: string): sip.Request {
  return {
    method: 'OPTIONS',
    uri: to,
    headers: {
      to: { uri: to, params: {} },
      from: { uri: from, params: { tag: 'near' } },
      'call-id': `options-${Date.now()}-${Math.random()}`,
      cseq: { method: 'OPTIONS', seq: 1 },
      'max-forwards': 70,
    },
  };
}

afterEach(() => {
  stack?.close();
  peer?.close();
  stack = peer = undefined;
});

describe('the SIP stack over UDP', () => {
  it('discards a response cut short (Content-Length longer than its body) and takes the whole one after it (RFC 3261 §18.3)', async () => {
    stack = await SipStack.open({ address: '127.0.0.1', port: 0, transport: 'udp', logger: silentLogger });
    const far = createSocket('udp4');
    peer = far;
    await new Promise<void>((r) => far.bind(0, '127.0.0.1', () => r()));
    // The far end answers the OPTIONS twice: first a copy whose body was lost on the way, then whole.
    far.on('message', (data, from) => {
      const request = data.toString('latin1');
      const header = (name: string): string => new RegExp(`^${name}: .*$`, 'mi').exec(request)?.[0] ?? '';
      const body = 'v=0\r\n';
      const answer = (copy: string, contentLength: number, content: string): Buffer =>
        Buffer.from(
          `SIP/2.0 200 OK\r\n${header('Via')}\r\n${header('From')}\r\n${header('To')};tag=far\r\n` +
            `${header('Call-ID')}\r\n${header('CSeq')}\r\nX-Copy: ${copy}\r\n` +
            `Content-Type: application/sdp\r\nContent-Length: ${contentLength}\r\n\r\n${content}`,
          'latin1',
        );
      far.send(answer('cut short', body.length + 40, body), from.port, from.address);
      setTimeout(() => far.send(answer('whole', body.length, body), from.port, from.address), 100);
    });
    const responses: sip.Response[] = [];
    stack.send(
      {
        method: 'OPTIONS',
        uri: `sip:far@127.0.0.1:${far.address().port}`,
        headers: {
          to: { uri: 'sip:far@127.0.0.1', params: {} },
          from: { uri: 'sip:near@127.0.0.1', params: { tag: 'near' } },
          'call-id': `cut-${Date.now()}`,
          cseq: { method: 'OPTIONS', seq: 1 },
          'max-forwards': 70,
        },
      },
      (rs) => responses.push(rs),
    );
    await waitFor('the final response', () => responses.find((r) => r.status >= 200), 5000);
    expect(responses.filter((r) => r.status >= 200).map((r) => r.headers['x-copy'])).toEqual(['whole']);
  });

  it('tags the To of every response it makes but 100 Trying (RFC 3261 §8.2.6.2), once for all its retransmissions', async () => {
    stack = await SipStack.open({ address: '127.0.0.1', port: 0, transport: 'udp', logger: silentLogger });
    const open = stack;
    open.onRequest((rq) => {
      open.respond({ status: 100, reason: 'Trying', headers: { ...rq.headers } });
      open.respond({ status: 486, reason: 'Busy Here', headers: { ...rq.headers } });
    });
    const far = createSocket('udp4');
    peer = far;
    const replies: string[] = [];
    far.on('message', (m) => replies.push(m.toString('latin1')));
    await new Promise<void>((r) => far.bind(0, '127.0.0.1', () => r()));
    const port = far.address().port;
    const invite =
      `INVITE sip:near@127.0.0.1:${open.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKtag1\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:far@127.0.0.1>;tag=far\r\nTo: <sip:near@127.0.0.1>\r\n` +
      `Call-ID: tag-${Date.now()}\r\nCSeq: 1 INVITE\r\nContact: <sip:far@127.0.0.1:${port}>\r\nContent-Length: 0\r\n\r\n`;
    far.send(invite, open.port, '127.0.0.1');
    await waitFor('the 486', () => replies.find((r) => r.startsWith('SIP/2.0 486')), 5000);
    // The INVITE again, as a lost 486 would make the far end send it: the 486 again, with the same tag.
    far.send(invite, open.port, '127.0.0.1');
    await waitFor(
      'the 486 again',
      () => replies.filter((r) => r.startsWith('SIP/2.0 486')).length >= 2,
      5000,
    );
    const to = (r: string | undefined): string => /^To: .*$/m.exec(r ?? '')?.[0] ?? '';
    const busy = replies.filter((r) => r.startsWith('SIP/2.0 486'));
    expect(to(busy[0])).toMatch(/;tag=[0-9a-f]{12}/);
    expect(to(busy[1])).toBe(to(busy[0]));
    expect(to(replies.find((r) => r.startsWith('SIP/2.0 100')))).not.toMatch(/tag=/);
  });
});

describe('the SIP stack over TCP', () => {
  it("connects from the line's own address, not the one the routing would pick", async () => {
    // To an address of this machine the kernel would pick that address as the source.
    stack = await SipStack.open({ address: '127.0.0.2', port: 0, transport: 'tcp', logger: silentLogger });
    const far = await SipStack.open({
      address: '127.0.0.1',
      port: 0,
      transport: 'tcp',
      logger: silentLogger,
    });
    try {
      const from: sip.Remote[] = [];
      far.onRequest((rq, remote) => {
        from.push(remote);
        far.respond({ status: 200, reason: 'OK', headers: { ...rq.headers } });
      });
      const to = `sip:far@127.0.0.1:${far.port};transport=tcp`;
      const responses: sip.Response[] = [];
      stack.send(optionsFrom('sip:near@127.0.0.2', to), (rs) => responses.push(rs));
      await waitFor('the 200', () => responses.find((r) => r.status >= 200), 5000);
      expect(from[0]).toMatchObject({ protocol: 'TCP', address: '127.0.0.2' });
    } finally {
      far.close();
    }
  });
});

describe('a request the network refuses over UDP', () => {
  it('ends at once in a 503 naming the error, and throws nothing out of the socket', async () => {
    const thrown: unknown[] = [];
    const onUncaught = (e: unknown): void => {
      thrown.push(e);
    };
    process.on('uncaughtException', onUncaught);
    try {
      stack = await SipStack.open({ address: '127.0.0.1', port: 0, transport: 'udp', logger: silentLogger });
      const responses: sip.Response[] = [];
      // The kernel refuses a broadcast from a socket not allowed to (EACCES), as it refuses anything
      // from an address the interface no longer has (ENETUNREACH, EADDRNOTAVAIL).
      const to = 'sip:far@255.255.255.255:5060';
      stack.send(optionsFrom('sip:near@127.0.0.1', to), (rs) => responses.push(rs));
      const refused = await waitFor('the 503', () => responses[0], 2000);
      expect(refused.status).toBe(503);
      expect(refused.reason).toMatch(/EACCES/);
      await new Promise((r) => setTimeout(r, 600)); // past the first retransmission
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(thrown).toEqual([]);
  });
});

describe('the SIP stack over UDP on IPv6', () => {
  const options = (to: string): sip.Request => optionsFrom('sip:near@[::1]', to);

  it('exchanges a request and its response with another stack on ::1, its Via host in brackets', async () => {
    stack = await SipStack.open({ address: '::1', port: 0, transport: 'udp', logger: silentLogger });
    const far = await SipStack.open({ address: '::1', port: 0, transport: 'udp', logger: silentLogger });
    try {
      const seen: sip.Request[] = [];
      far.onRequest((rq) => {
        seen.push(rq);
        far.respond({ status: 200, reason: 'OK', headers: { ...rq.headers } });
      });
      expect(far.contactUri('far')).toBe(`sip:far@[::1]:${far.port}`);
      const responses: sip.Response[] = [];
      stack.send(options(far.contactUri('far')), (rs) => responses.push(rs));
      const ok = await waitFor('the 200', () => responses.find((r) => r.status >= 200), 5000);
      expect(ok.status).toBe(200);
      expect(seen[0]?.headers.via?.[0]).toMatchObject({ host: '[::1]', port: stack.port });
    } finally {
      far.close();
    }
  });

  it('answers a request for an IPv6 next hop on an IPv4 line 503, naming the family, instead of sending it', async () => {
    stack = await SipStack.open({ address: '127.0.0.1', port: 0, transport: 'udp', logger: silentLogger });
    const responses: sip.Response[] = [];
    stack.send(options('sip:far@[::1]:5060'), (rs) => responses.push(rs));
    const refused = await waitFor('the 503', () => responses[0], 5000);
    expect(refused).toMatchObject({ status: 503, reason: 'Service Unavailable (next hop ::1 is not IPv4)' });
  });
});
