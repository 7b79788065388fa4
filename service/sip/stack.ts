import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import * as sip from 'sip';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../core/errors.js';
import { addressOfHost, hostOfAddress, ipFamily } from '../core/ip-address.js';
import { bodyMatchesLength, messageText, validateRequest, type RequestProblem } from './validate.js';
import {
  HopResolutionError,
  hopOf,
  numericHop,
  NextHopResolver,
  uriHop,
  type NamedHop,
  type ResolvedHop,
} from './next-hop-resolver.js';
import { MAX_INBOUND_STREAMS, refusalLog, withCappedStreamServers } from './inbound-streams.js';
import { TlsPeerMismatch, TlsPeers } from './tls-peers.js';
import { isSipsUri } from './dial-string.js';
import { UnreachableTargets } from './unreachable-targets.js';

export type SipTransport = 'udp' | 'tcp' | 'tls';

export interface StackOptions {
  address: string;
  /** 0 picks a free port (UDP and TCP both free). */
  port: number;
  transport: SipTransport;
  /** For transport tls: the certificates that may sign the proxy's (PEM); Node's public CAs otherwise. */
  tlsCa?: string;
  /** For transport tls: the head unit's own certificate and key (PEM), for a proxy that asks for one. */
  tlsClient?: { cert: string; key: string };
  /** DNS servers for next hops named by host name ("address" or "address:port"); the system's otherwise. */
  dnsServers?: readonly string[];
  logger: Logger;
}

async function udpPortFree(address: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(ipFamily(address) === 6 ? 'udp6' : 'udp4');
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
 * One SIP transport+transaction stack bound to one address and port. It uses the `sip` package's
 * transport and transaction layers but routes requests itself: the package's own `create().send()`
 * takes any request whose next hop has our IP (whatever the port) for one of its flow-token URIs and
 * fails, so a registrar or PBX on the head unit itself (or on loopback) could never be reached, and it
 * resolves host names through DNS only. Incoming requests are validated here first: a malformed request
 * gets its 4xx/5xx and never reaches the dialog layer.
 */
export class SipStack {
  private transport: sip.Transport | undefined;
  private transactions: sip.TransactionLayer | undefined;
  private handler: (rq: sip.Request, remote: sip.Remote) => void = () => undefined;
  /** The TLS options the sip package connects with (one object for every connection), if TLS is on. */
  private tlsConnections: ConnectionOptions | undefined;
  /** Requests sent whose final response has not come yet (ACKs have none). */
  private outstanding = 0;
  private readonly whenSettled: (() => void)[] = [];
  private readonly unreachable = new UnreachableTargets();
  private readonly tlsPeers = new TlsPeers();

  private constructor(
    readonly address: string,
    readonly port: number,
    readonly transportKind: SipTransport,
    private readonly resolver: NextHopResolver,
    private readonly logger: Logger,
  ) {}

  static async open(options: StackOptions): Promise<SipStack> {
    // The TCP listener is always bound too: a peer may answer over TCP for large messages.
    const port = await reservePort(options.address, options.port, true);
    const s = new SipStack(
      options.address,
      port,
      options.transport,
      new NextHopResolver(options.dnsServers, ipFamily(options.address)),
      options.logger,
    );
    const tls = options.transport === 'tls' ? await tlsOptions(options) : undefined;
    s.tlsConnections = tls?.tls;
    const stackOptions: sip.StackOptions = {
      address: options.address,
      // The host of our Via: an IPv6 address in brackets, which the package would write bare.
      publicAddress: hostOfAddress(options.address),
      port,
      udp: true,
      tcp: true,
      ...tls,
      maxBytesHeaders: 16_384,
      maxContentLength: 65_536,
      logger: {
        error: (e) => options.logger.warn({ err: errorMessage(e) }, 'sip transport error'),
        recv: (m, remote) => traceMessage(options.logger, '<<<', 'remote', m, remote),
        send: (m, target) => traceMessage(options.logger, '>>>', 'target', m, target),
      },
    };
    const refused = refusalLog((count, remote) =>
      options.logger.warn(
        { refused: count, remote, limit: MAX_INBOUND_STREAMS },
        'inbound SIP connections refused: too many open',
      ),
    );
    s.transport = withCappedStreamServers(
      () => sip.makeTransport(stackOptions, (m, remote) => s.onMessage(m, remote)),
      refused,
    );
    s.transactions = sip.makeTransactionLayer(stackOptions, s.transport.open.bind(s.transport));
    return s;
  }

  private onMessage(m: sip.Message, remote: sip.Remote): void {
    const transactions = this.transactions;
    const transport = this.transport;
    if (!transactions || !transport) {
      return;
    }
    try {
      if (!('method' in m)) {
        if (!bodyMatchesLength(m)) {
          // Its retransmission, or the transaction's timeout, decides instead.
          this.logger.info(
            { remote: `${remote.address}:${remote.port}`, status: m.status },
            'response dropped: its Content-Length does not match its body',
          );
          return;
        }
        transactions.getClient(m)?.message(m, remote);
        return;
      }
      const existing = transactions.getServer(m);
      if (existing) {
        existing.message?.(m, remote);
        return;
      }
      if (m.method !== 'ACK') {
        transactions.createServerTransaction(m, transport.get(remote) ?? transport.open(remote));
      }
      this.onIncoming(m, remote);
    } catch (e) {
      this.logger.warn({ err: errorMessage(e) }, 'incoming message dropped');
    }
  }

  /** Where a request goes next (RFC 3261 §8.1.2, §16.12 loose routing): the first Route, else the URI. */
  private nextHop(rq: sip.Request): NamedHop | undefined {
    const routes = rq.headers.route ?? [];
    const first = routes[0];
    let hop = sip.parseUri(first ? first.uri : rq.uri);
    if (first && hop && isOurs(hop, this.address, this.port)) {
      routes.shift();
      hop = sip.parseUri(routes[0]?.uri ?? rq.uri);
    }
    return hop ? uriHop(hop) : undefined;
  }

  /** The IPv4 addresses a SIP URI's host stands for (SRV and A records, as a request to it would go). */
  async addressesOf(uri: string): Promise<string[]> {
    const hop = hopOf(uri);
    if (!hop) {
      throw new HopResolutionError(uri, 'not a SIP URI with a host');
    }
    const numeric = numericHop(hop);
    return numeric ? [numeric.address] : (await this.resolver.resolve(hop)).map((t) => t.address);
  }

  private onIncoming(rq: sip.Request, remote: sip.Remote): void {
    const problem = validateRequest(rq) ?? sipsOverPlainHop(rq, remote);
    if (problem) {
      this.logger.info(
        { remote: `${remote.address}:${remote.port}`, problem: problem.reason },
        'rejected request',
      );
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
  send(rq: sip.Request, onResponse: (rs: sip.Response) => void = () => undefined): void {
    if (!this.transport || !this.transactions) {
      return;
    }
    if (rq.method !== 'ACK') {
      onResponse = this.counted(onResponse);
    }
    const hop = this.nextHop(rq);
    const protocols = this.transportKind === 'tls' ? ['UDP', 'TCP', 'TLS'] : ['UDP', 'TCP'];
    if (!hop || !protocols.includes(hop.protocol)) {
      onResponse(
        sip.makeResponse(
          rq,
          503,
          `Service Unavailable (next hop must be an IP address or host name over ${protocols.join(', ')})`,
        ),
      );
      return;
    }
    // An address is sent at once: no lookup, and no turn of the event loop before it goes.
    const numeric = numericHop(hop);
    const ownFamily = ipFamily(this.address);
    if (numeric && ipFamily(numeric.address) !== ownFamily) {
      onResponse(
        sip.makeResponse(rq, 503, `Service Unavailable (next hop ${numeric.address} is not IPv${ownFamily})`),
      );
      return;
    }
    if (numeric) {
      this.sendTo(rq, numeric, onResponse);
      return;
    }
    this.resolver.resolve(hop).then(
      (targets) => this.sendInTurn(rq, this.unreachable.order(targets), onResponse),
      (e: unknown) => {
        this.logger.warn({ err: errorMessage(e), method: rq.method }, 'next hop not found');
        onResponse(sip.makeResponse(rq, 503, notFoundReason(e)));
      },
    );
  }

  /** `onResponse`, counting its request as outstanding until the final response comes. */
  private counted(onResponse: (rs: sip.Response) => void): (rs: sip.Response) => void {
    this.outstanding++;
    let answered = false;
    return (rs) => {
      if (!answered && rs.status >= 200) {
        answered = true;
        this.outstanding--;
        if (this.outstanding === 0) {
          this.whenSettled.splice(0).forEach((resolve) => resolve());
        }
      }
      onResponse(rs);
    };
  }

  /**
   * Resolves once every request sent has had its final response, or after `timeoutMs`: a line going
   * down lets the BYEs and CANCELs that end its calls reach the far end before its socket closes.
   */
  settled(timeoutMs: number): Promise<void> {
    if (this.outstanding === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.whenSettled.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * RFC 3263 §4.3: where a target cannot be connected to, or does not answer at all before the
   * transaction times out (64·T1, 32 s, over UDP), the next one gets the request, in a new transaction,
   * and the failed one is tried last for a while (unreachable-targets.ts). A target that sent anything
   * back is alive: its timeout or error ends the request. A CANCEL is looked up afresh: put in order the
   * same way, it reaches the target its INVITE reached unless DNS answers differently in between.
   */
  private sendInTurn(rq: sip.Request, targets: ResolvedHop[], onResponse: (rs: sip.Response) => void): void {
    const [target, ...rest] = targets;
    if (!target) {
      return;
    }
    let heardFrom = false;
    this.sendTo(rq, target, (rs) => {
      const unreachable = heardFrom ? undefined : unreachableTarget(rq, rs);
      heardFrom ||= unreachable === undefined;
      if (unreachable !== undefined) {
        this.unreachable.mark(target);
        if (rest.length > 0) {
          this.logger.info(
            { failed: `${target.address}:${target.port}`, why: unreachable, method: rq.method },
            'trying the next target',
          );
          if (rq.method !== 'CANCEL') {
            rq.headers.via?.shift(); // ours, from sendTo; the next transaction puts its own
          }
          this.sendInTurn(rq, rest, onResponse);
          return;
        }
      }
      onResponse(rs);
    });
  }

  private sendTo(rq: sip.Request, target: ResolvedHop, onResponse: (rs: sip.Response) => void): void {
    const transport = this.transport;
    const transactions = this.transactions;
    if (!transport || !transactions) {
      return;
    }
    try {
      if (rq.method === 'ACK') {
        rq.headers.via = [{ params: { branch: sip.generateBranch() } }];
        const flow = this.openFlow(transport, target, (e) =>
          this.logger.warn({ err: errorMessage(e) }, 'ACK not sent'),
        );
        try {
          flow.send(rq);
        } finally {
          flow.release();
        }
        return;
      }
      if (rq.method !== 'CANCEL') {
        // Over TLS the proxy cannot open a connection to us (a head unit is behind the mobile network's
        // NAT, and usually has no server certificate): the Via alias (RFC 5923) asks it to send our
        // requests down the connection we opened.
        const params = target.protocol === 'TLS' ? { alias: null } : {};
        rq.headers.via = [{ params }, ...(rq.headers.via ?? [])];
      }
      // A TCP connection that fails ends the transaction with a 503, as RFC 3261 §8.1.3.1 asks.
      const pending: { client?: sip.ClientTransaction } = {};
      const flow = this.openFlow(transport, target, (e) => {
        this.logger.warn(
          { err: errorMessage(e), target: `${target.address}:${target.port}` },
          'connection failed',
        );
        pending.client?.message(sip.makeResponse(rq, 503, connectionFailedReason(connectionErrorText(e))));
      });
      pending.client = transactions.createClientTransaction(flow, rq, onResponse);
    } catch (e) {
      this.logger.warn({ err: errorMessage(e), method: rq.method }, 'send failed');
      const reason =
        e instanceof TlsPeerMismatch
          ? connectionFailedReason(e.message)
          : 'Service Unavailable (send failed)';
      onResponse(sip.makeResponse(rq, 503, reason));
    }
  }

  /**
   * Over TLS to a registrar or proxy named by host name, the certificate must name that host (RFC 5922
   * §4.2: the SIP domain of the URI, not the SRV target or the address) and SNI asks for it; a
   * connection opened for another name is checked again for this one (tls-peers.ts). The sip package
   * connects with one set of TLS options for every connection, synchronously within open(): the name
   * and the check go into them for that open and out again after.
   */
  private openFlow(transport: sip.Transport, target: ResolvedHop, onError: (e: unknown) => void): sip.Flow {
    const tls = target.protocol === 'TLS' ? this.tlsConnections : undefined;
    if (!tls) {
      return this.untilClosed(transport.open(target, onError));
    }
    const existing = transport.get(target);
    existing?.release();
    const check = this.tlsPeers.beforeSend(target, existing !== undefined);
    if (target.name !== undefined) {
      tls.servername = target.name;
    }
    if (check) {
      tls.checkServerIdentity = check;
    }
    try {
      return this.untilClosed(transport.open(target, onError));
    } finally {
      delete tls.servername;
      delete tls.checkServerIdentity;
    }
  }

  /**
   * A flow that sends nothing once the stack is closed. The sip package's client transaction sends its
   * request on the next tick, even when it was shut down in between: a request made just before close()
   * (a line going down as its REGISTER goes out) would write to the closed socket and throw out of a
   * timer, and its retransmission timers would go on doing so.
   */
  private untilClosed(flow: sip.Flow): sip.Flow {
    return Object.create(flow, {
      send: { value: (m: sip.Message) => (this.transport ? flow.send(m) : undefined) },
    }) as sip.Flow;
  }

  /** Sends a response in its server transaction, as SIP/2.0 whatever version the request named. */
  respond(rs: sip.Response): void {
    try {
      this.transactions?.getServer(rs)?.send({ ...withToTag(rs), version: '2.0' });
    } catch (e) {
      this.logger.warn({ err: errorMessage(e), status: rs.status }, 'respond failed');
    }
  }

  /**
   * The URI peers reach us at: `sip:user@address:port` with the transport parameter for TCP or TLS;
   * `sips:user@address:port` in a dialog begun with a sips: URI (only a line over TLS has such dialogs).
   */
  contactUri(user: string, secure = false): string {
    if (secure) {
      return `sips:${user}@${hostOfAddress(this.address)}:${this.port}`;
    }
    const transport = this.transportKind === 'udp' ? '' : `;transport=${this.transportKind}`;
    return `sip:${user}@${hostOfAddress(this.address)}:${this.port}${transport}`;
  }

  close(): void {
    this.transactions?.destroy();
    this.transport?.destroy();
    this.transactions = undefined;
    this.transport = undefined;
  }
}

/**
 * RFC 3261 §8.2.6.2: a UAS adds a tag to the To of every response but 100 Trying. Responses within a
 * dialog carry its tag already; the `sip` package's makeResponse copies the request's To, which has
 * none outside one (a 486, 403 or 302 to a new INVITE, a 405 to an OPTIONS …).
 */
function withToTag(rs: sip.Response): sip.Response {
  const to = rs.headers.to;
  if (rs.status === 100 || !to || to.params.tag !== undefined) {
    return rs;
  }
  return {
    ...rs,
    headers: { ...rs.headers, to: { ...to, params: { ...to.params, tag: randomBytes(6).toString('hex') } } },
  };
}

/**
 * A sips: Request-URI asks for TLS on every hop (RFC 3261 §26.2.2); one that came over UDP or TCP did
 * not have it, and the UAS does not take what it cannot keep (RFC 3261 §8.2.2.1).
 */
function sipsOverPlainHop(rq: sip.Request, remote: sip.Remote): RequestProblem | undefined {
  return isSipsUri(String(rq.uri)) && remote.protocol.toUpperCase() !== 'TLS'
    ? { status: 416, reason: 'Unsupported URI Scheme (sips: over a hop without TLS)' }
    : undefined;
}

/** A message in the trace log, made text only when the trace is on: this runs for every message. */
function traceMessage(
  logger: Logger,
  direction: '<<<' | '>>>',
  peerKey: 'remote' | 'target',
  m: sip.Message,
  peer: sip.Remote,
): void {
  if (logger.isLevelEnabled('trace')) {
    logger.trace({ [peerKey]: `${peer.address}:${peer.port}` }, `${direction} ${messageText(m)}`);
  }
}

/**
 * A connection's failure in a few words, for a reason phrase: OpenSSL's reason where TLS failed (a
 * proxy's alert, "tlsv13 alert certificate required", comes as OpenSSL's whole error line otherwise).
 */
function connectionErrorText(e: unknown): string {
  if (e instanceof Error && 'library' in e && 'reason' in e && typeof e.reason === 'string') {
    return e.reason;
  }
  return errorMessage(e).split('\n')[0] ?? '';
}

/** The reason phrase of the 503 the stack answers itself with when it cannot connect (TCP, TLS). */
function connectionFailedReason(detail: string): string {
  return `Service Unavailable (connection failed: ${detail})`;
}

/**
 * Why the target could not be reached, where `rs` is a response the transaction layer made itself (the
 * sip package builds those on the request's own header objects; a response from the network is parsed
 * into new ones): its connection failed, or it never answered. Undefined for anything the target sent.
 */
function unreachableTarget(rq: sip.Request, rs: sip.Response): string | undefined {
  if (rs.headers.via !== rq.headers.via) {
    return undefined;
  }
  if (rs.status === 408) {
    return 'no answer';
  }
  return rs.status === 503 ? connectionFailure(rs.reason) : undefined;
}

/** Why a connection failed, where `reason` is the phrase of a 503 the stack made itself for that. */
function connectionFailure(reason: string): string | undefined {
  return /^Service Unavailable \(connection failed: (.+)\)$/.exec(reason)?.[1];
}

/** The reason phrase of the 503 the stack answers itself with when the next hop's name is not found. */
function notFoundReason(e: unknown): string {
  return `Service Unavailable (${e instanceof HopResolutionError ? e.message : `DNS: ${errorMessage(e)}`})`;
}

/**
 * Why the stack could not reach the next hop, where `reason` is the phrase of a 503 it made itself: the
 * connection's failure, or the name that DNS did not find ("DNS: host: ENOTFOUND").
 */
export function localFailure(reason: string): string | undefined {
  return connectionFailure(reason) ?? /^Service Unavailable \((DNS: .+)\)$/.exec(reason)?.[1];
}

/**
 * Why the stack answered a request itself with a 503, read from its reason phrase: every such phrase
 * says in brackets why the request could not go out (a connection, DNS, a send that failed, a next hop
 * it cannot use).
 */
export function ownFailure(status: number, reason: string): string | undefined {
  return status === 503 ? /^Service Unavailable \((.+)\)$/.exec(reason)?.[1] : undefined;
}

/**
 * The `sip` package's TLS transport: client connections that verify the proxy's certificate (it must
 * name the host the URI names, or the IP address where the URI gives one), TLS 1.2 at least, with the
 * head unit's own certificate where the account gives one. The package also listens for TLS, with the
 * same options, on a port of its own that we pick free (it would otherwise take 5061 and crash where
 * that is in use); requests reach us down the connections we open.
 */
async function tlsOptions(options: StackOptions): Promise<Pick<sip.StackOptions, 'tls' | 'tls_port'>> {
  const tls: NonNullable<sip.StackOptions['tls']> = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    // From the line's own address, as UDP goes (patches/: TCP too), whatever the routing would pick.
    localAddress: options.address,
    ...(options.tlsCa !== undefined ? { ca: options.tlsCa } : {}),
    ...options.tlsClient,
  };
  return { tls, tls_port: await reservePort(options.address, 0, true) };
}

function isOurs(uri: sip.SipUri, address: string, port: number): boolean {
  return addressOfHost(uri.host) === address && Number(uri.port ?? 5060) === port;
}
