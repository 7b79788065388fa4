import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import * as sip from 'sip';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../core/errors.js';
import { validateRequest } from './validate.js';

export type SipTransport = 'udp' | 'tcp';

export interface StackOptions {
  address: string;
  /** 0 picks a free port (UDP and TCP both free). */
  port: number;
  transport: SipTransport;
  logger: Logger;
}

async function udpPortFree(address: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(undefined));
    s.bind(port, address, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function tcpPortFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, address, () => srv.close(() => resolve(true)));
  });
}

/**
 * Finds a port free for both UDP and TCP. The `sip` package binds its sockets without an error
 * listener, so a port already in use would crash the daemon; probing first turns that into a clear error.
 */
export async function reservePort(address: string, port: number, needTcp: boolean): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const udp = await udpPortFree(address, port);
    if (udp !== undefined && (!needTcp || (await tcpPortFree(address, udp)))) {
      return udp;
    }
    if (port !== 0) {
      throw new Error(`SIP port ${address}:${port} is already in use`);
    }
  }
  throw new Error(`no free SIP port on ${address}`);
}

/**
 * One SIP transport+transaction stack (the `sip` package) bound to one address and port, with carphone's
 * validation of incoming requests in front of the application: a malformed request gets its 4xx/5xx
 * here and never reaches the dialog layer.
 */
export class SipStack {
  private stack: sip.Stack | undefined;
  private handler: (rq: sip.Request, remote: sip.Remote) => void = () => undefined;

  private constructor(
    readonly address: string,
    readonly port: number,
    readonly transport: SipTransport,
    private readonly logger: Logger,
  ) {}

  static async open(options: StackOptions): Promise<SipStack> {
    // The TCP listener is always bound too: a peer may answer over TCP for large messages.
    const port = await reservePort(options.address, options.port, true);
    const s = new SipStack(options.address, port, options.transport, options.logger);
    s.stack = sip.create(
      {
        address: options.address,
        port,
        udp: true,
        tcp: true,
        maxBytesHeaders: 16_384,
        maxContentLength: 65_536,
        logger: {
          error: (e) => options.logger.warn({ err: errorMessage(e) }, 'sip stack error'),
          recv: (m, remote) =>
            options.logger.trace({ remote: `${remote.address}:${remote.port}` }, `<<< ${sip.stringify(m)}`),
          send: (m, target) =>
            options.logger.trace({ target: `${target.address}:${target.port}` }, `>>> ${sip.stringify(m)}`),
        },
      },
      (rq, remote) => s.onIncoming(rq, remote),
    );
    return s;
  }

  private onIncoming(rq: sip.Request, remote: sip.Remote): void {
    const problem = validateRequest(rq);
    if (problem) {
      this.logger.info({ remote: `${remote.address}:${remote.port}`, problem: problem.reason }, 'rejected request');
      if (rq.method !== 'ACK') {
        this.respond(sip.makeResponse(rq, problem.status, problem.reason, problem.extension));
      }
      return;
    }
    this.handler(rq, remote);
  }

  onRequest(handler: (rq: sip.Request, remote: sip.Remote) => void): void {
    this.handler = handler;
  }

  /** Sends a request; every response (provisional and final) goes to `onResponse`. */
  send(rq: sip.Request, onResponse?: (rs: sip.Response) => void): void {
    if (!this.stack) {
      return;
    }
    try {
      this.stack.send(rq, onResponse ?? (() => undefined));
    } catch (e) {
      this.logger.warn({ err: errorMessage(e), method: rq.method }, 'send failed');
      onResponse?.({ status: 503, reason: 'Service Unavailable (send failed)', headers: rq.headers });
    }
  }

  respond(rs: sip.Response): void {
    try {
      this.stack?.send(rs);
    } catch (e) {
      this.logger.warn({ err: errorMessage(e), status: rs.status }, 'respond failed');
    }
  }

  /** The URI peers reach us at: `sip:user@address:port` with the transport parameter for TCP. */
  contactUri(user: string): string {
    return `sip:${user}@${this.address}:${this.port}${this.transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  close(): void {
    this.stack?.destroy();
    this.stack = undefined;
  }
}
