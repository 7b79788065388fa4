import { createSocket } from 'node:dgram';
import { createServer, isIPv6 } from 'node:net';

async function udpFree(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    s.once('error', () => resolve(false));
    s.bind(port, address, () => s.close(() => resolve(true)));
  });
}

async function tcpFree(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, address, () => srv.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/** A port free for UDP and TCP on `address`, and `span - 1` free ports after it (baresip's TLS port). */
export async function freePort(address = '127.0.0.1', span = 1): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const base = 21000 + Math.floor(Math.random() * 20000);
    let ok = true;
    for (let p = base; p < base + span && ok; p++) {
      ok = !handedOut.has(p) && (await udpFree(p, address)) && (await tcpFree(p, address));
    }
    if (ok) {
      for (let p = base; p < base + span; p++) {
        handedOut.add(p);
      }
      return base;
    }
  }
  throw new Error('no free port');
}
