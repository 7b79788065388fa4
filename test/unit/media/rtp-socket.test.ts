import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DgramRtpSocket } from '../../../service/media/transport/dgram-rtp-socket.js';
import { PolledUdpSocket } from '../../../service/media/transport/polled-udp-socket.js';
import { PortInUseError } from '../../../service/media/transport/port-in-use-error.js';
import type { RtpSocket } from '../../../service/media/transport/rtp-socket.js';
import { builtUdpAddon as addon } from '../../harness/udp-addon.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const kinds: [string, (address: string, port: number) => Promise<RtpSocket>][] = [
  ['polled (native/udp)', (address, port) => PolledUdpSocket.open(addon(), address, port)],
  ['Node dgram', (address, port) => DgramRtpSocket.open(address, port)],
];

interface Taken {
  text: string;
  address: string;
  port: number;
  arrivedAt: number;
}

describe.each(kinds)('RTP socket, %s', (_name, open) => {
  const toClose: (RtpSocket | Socket)[] = [];
  // Loading native/udp turns the kernel's receive timestamps on for the process, in deferred work.
  beforeAll(async () => {
    addon();
    await sleep(50);
  });
  afterEach(() => toClose.splice(0).forEach((s) => s.close()));

  async function peer(address = '127.0.0.1'): Promise<Socket> {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => s.bind(0, address, r));
    toClose.push(s);
    return s;
  }

  function take(socket: RtpSocket): Taken[] {
    const taken: Taken[] = [];
    socket.receive((data, address, port, arrivedAt) =>
      // The data is only valid during the call: what is kept is copied.
      taken.push({ text: Buffer.from(data).toString(), address, port, arrivedAt }),
    );
    return taken;
  }

  it('hands over every datagram sent since the last read, oldest first, with when and where each came from', async () => {
    const socket = await open('127.0.0.1', 0);
    toClose.push(socket);
    const far = await peer();
    const sentAt: number[] = [];
    for (const text of ['one', 'two', 'three']) {
      sentAt.push(performance.now());
      far.send(text, socket.port, '127.0.0.1');
      await sleep(30);
    }
    const readAt = performance.now();
    const taken = take(socket);
    expect(taken.map((t) => t.text)).toEqual(['one', 'two', 'three']);
    for (const [i, t] of taken.entries()) {
      expect(t.address).toBe('127.0.0.1');
      expect(t.port).toBe(far.address().port);
      // Arrival is when the datagram came, not when it was read: after its send, 30 ms apart, before
      // the read (1 ms for the kernel's wall clock against the monotonic one).
      expect(t.arrivedAt).toBeGreaterThan((sentAt[i] ?? 0) - 1);
      expect(t.arrivedAt).toBeLessThan(readAt + 1);
    }
    expect((taken[2]?.arrivedAt ?? 0) - (taken[0]?.arrivedAt ?? 0)).toBeGreaterThan(50);
    // Read once, handed over once.
    expect(take(socket)).toEqual([]);
  });

  it('takes more datagrams than one read holds', async () => {
    const socket = await open('127.0.0.1', 0);
    toClose.push(socket);
    const far = await peer();
    for (let i = 0; i < 100; i++) {
      far.send(`n${i}`, socket.port, '127.0.0.1');
    }
    await sleep(100);
    expect(take(socket).map((t) => t.text)).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`));
  });

  it('sends to the address and port given', async () => {
    const socket = await open('127.0.0.1', 0);
    toClose.push(socket);
    const far = await peer();
    const got = new Promise<{ text: string; port: number }>((resolve) =>
      far.once('message', (m, from) => resolve({ text: m.toString(), port: from.port })),
    );
    socket.send(new TextEncoder().encode('hello'), far.address().port, '127.0.0.1');
    expect(await got).toEqual({ text: 'hello', port: socket.port });
  });

  it('takes and sends datagrams on IPv6, naming the sender as Node does', async () => {
    const socket = await open('::1', 0);
    toClose.push(socket);
    const far = await peer('::1');
    far.send('over six', socket.port, '::1');
    await sleep(30);
    expect(take(socket)).toMatchObject([{ text: 'over six', address: '::1', port: far.address().port }]);
    const got = new Promise<{ text: string; address: string; port: number }>((resolve) =>
      far.once('message', (m, from) =>
        resolve({ text: m.toString(), address: from.address, port: from.port }),
      ),
    );
    socket.send(new TextEncoder().encode('back'), far.address().port, '::1');
    expect(await got).toEqual({ text: 'back', address: '::1', port: socket.port });
  });

  it('refuses a port already taken with PortInUseError', async () => {
    const socket = await open('127.0.0.1', 0);
    toClose.push(socket);
    await expect(open('127.0.0.1', socket.port)).rejects.toBeInstanceOf(PortInUseError);
  });

  it('hands over nothing once closed, and takes a late send without throwing', async () => {
    const socket = await open('127.0.0.1', 0);
    const far = await peer();
    far.send('late', socket.port, '127.0.0.1');
    await sleep(20);
    socket.close();
    expect(take(socket)).toEqual([]);
    expect(() => socket.send(new Uint8Array([1]), far.address().port, '127.0.0.1')).not.toThrow();
  });
});

describe('native/udp', () => {
  it('drops a datagram too long for its slot and counts it, and hands over the next', async () => {
    const socket = await PolledUdpSocket.open(addon(), '127.0.0.1', 0);
    const far = createSocket('udp4');
    await new Promise<void>((r) => far.bind(0, '127.0.0.1', r));
    far.send(Buffer.alloc(4000, 1), socket.port, '127.0.0.1');
    far.send('fits', socket.port, '127.0.0.1');
    await sleep(30);
    const texts: string[] = [];
    socket.receive((data) => texts.push(Buffer.from(data).toString()));
    expect(texts).toEqual(['fits']);
    expect(socket.dropped).toBe(1);
    socket.close();
    far.close();
  });

  it('rejects arguments of the wrong kind with a TypeError, not a crash', () => {
    const udp = addon();
    expect(() => udp.open('not an address', 0)).toThrow(TypeError);
    expect(() => udp.open('127.0.0.1', 70000)).toThrow(TypeError);
    expect(() => udp.open('[::1]', 0)).toThrow(TypeError);
    const fd = udp.open('127.0.0.1', 0);
    expect(() => udp.send(fd, new Uint8Array(1), '127.0.0.1', 0)).toThrow(TypeError);
    expect(() => udp.receive(fd, new Uint8Array(10), 0, new Float64Array(4))).toThrow(TypeError);
    udp.close(fd);
    expect(() => udp.close(fd)).toThrow(/EBADF|Bad file/);
  });
});
