import { createSocket, type Socket } from 'node:dgram';
import type * as sip from 'sip';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../service/log/logger.js';
import { SipStack } from '../../service/sip/stack.js';
import { waitFor } from '../harness/process.js';

let stack: SipStack | undefined;
let peer: Socket | undefined;

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
});
