import net from 'node:net';
import tls from 'node:tls';

/** How many TCP (and, apart, TLS) connections peers may hold open to one stack at once. */
export const MAX_INBOUND_STREAMS = 64;

/** How many of them one address may hold: one peer cannot take them all from the proxy. */
export const MAX_INBOUND_STREAMS_PER_ADDRESS = 16;

/** One refused connection: where it came from. */
export type StreamRefused = (remote: string) => void;

/**
 * Calls `makeTransport` (the sip package's) and caps the TCP and TLS servers it starts. The package
 * keeps those servers to itself and takes every connection, each held until 120 s of silence: a peer
 * that opened thousands would take every file descriptor the daemon may have, and with them the RTP
 * sockets of the next call, the call log and an eCall. The package creates its servers synchronously
 * inside `makeTransport`, so they are caught there (the module functions are put back before this
 * returns) and given `maxConnections`: Node closes a connection above it as it is accepted. A
 * connection from an address that holds MAX_INBOUND_STREAMS_PER_ADDRESS already is closed too. The
 * registrar's connection is unaffected, being ours (outgoing).
 */
export function withCappedStreamServers<T>(makeTransport: () => T, refused: StreamRefused): T {
  const servers: net.Server[] = [];
  const createTcp = net.createServer;
  const createTls = tls.createServer;
  net.createServer = ((...args: Parameters<typeof createTcp>) => {
    const server = createTcp(...args);
    servers.push(server);
    return server;
  }) as typeof createTcp;
  tls.createServer = ((...args: Parameters<typeof createTls>) => {
    const server = createTls(...args);
    servers.push(server);
    return server;
  }) as typeof createTls;
  try {
    return makeTransport();
  } finally {
    net.createServer = createTcp;
    tls.createServer = createTls;
    for (const server of servers) {
      server.maxConnections = MAX_INBOUND_STREAMS;
      server.on('drop', (d) => refused(d ? `${d.remoteAddress}:${d.remotePort}` : 'unknown'));
      capPerAddress(server, refused);
    }
  }
}

function capPerAddress(server: net.Server, refused: StreamRefused): void {
  const held = new Map<string, number>();
  server.on('connection', (socket: net.Socket) => {
    const from = socket.remoteAddress ?? '';
    const count = (held.get(from) ?? 0) + 1;
    if (count > MAX_INBOUND_STREAMS_PER_ADDRESS) {
      socket.destroy();
      refused(`${from}:${socket.remotePort ?? 0}`);
      return;
    }
    held.set(from, count);
    socket.once('close', () => {
      const left = (held.get(from) ?? 1) - 1;
      if (left > 0) {
        held.set(from, left);
      } else {
        held.delete(from);
      }
    });
  });
}

/**
 * Logs refusals (connections, requests) without a flood of them flooding the log: the first at once,
 * then at most one line per `intervalMs` with how many were refused since (the last of a flood too,
 * when its interval is over).
 */
export function refusalLog(
  log: (refused: number, lastRemote: string) => void,
  now: () => number = Date.now,
  intervalMs = 10_000,
): StreamRefused {
  let unreported = 0;
  let lastRemote = '';
  let lastReport = -Infinity;
  let pending: NodeJS.Timeout | undefined;
  const report = (): void => {
    pending = undefined;
    log(unreported, lastRemote);
    unreported = 0;
    lastReport = now();
  };
  return (remote) => {
    unreported += 1;
    lastRemote = remote;
    if (pending) {
      return;
    }
    const wait = lastReport + intervalMs - now();
    if (wait <= 0) {
      report();
    } else {
      pending = setTimeout(report, wait).unref();
    }
  };
}
