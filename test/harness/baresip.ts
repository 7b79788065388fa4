import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { Child, waitFor } from './process.js';
import { inNamespace } from './nat-network.js';
import { endpointText } from '../../service/core/ip-address.js';

export interface BaresipOptions {
  user: string;
  password?: string;
  /** kamailio's port; without it baresip does not register and is reached directly. */
  registrarPort?: number;
  autoAnswer: boolean;
  /** 8 kHz 16-bit mono WAV that baresip sends into its calls. */
  sourceWav: string;
  /** Codecs baresip offers and accepts, in order (default PCMU, PCMA). */
  codecs?: string[];
  /** Media encryption, e.g. "srtp-mand" (SDES-keyed SRTP on RTP/SAVP, nothing else). */
  mediaenc?: string;
  /** More lines for baresip's config file, e.g. `opus_bitrate 24000`. */
  config?: string[];
  /** The display name baresip puts in its From header (its accounts file is UTF-8). */
  displayName?: string;
  /** Where it listens for SIP and sends RTP from, and where kamailio is: 127.0.0.1 unless given (::1). */
  address?: string;
  /** Run in this network namespace; its ctrl_tcp is reached through a relay started in it. */
  netns?: string;
  /**
   * Entries of its contacts file ("Name" <sip:…>), the first being current: with any, its contact
   * module is loaded, whose `message` command sends a text message (SIP MESSAGE) to the current one.
   */
  contacts?: string[];
  /**
   * Load its cons module, its UI over UDP, and collect what the UI prints (consoleText): a text message
   * it receives shows only there, as `sip:sender: "text"`. Not in a network namespace.
   */
  console?: boolean;
}

export interface BaresipEvent {
  event: true;
  class: string;
  type: string;
  param?: string;
  peeruri?: string;
  id?: string;
  [k: string]: unknown;
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, ' ');
}

async function ctrlOnHost(port: number): Promise<Socket> {
  return waitFor(
    'baresip ctrl_tcp',
    () =>
      new Promise<Socket | undefined>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      }),
    8000,
    100,
  );
}

/**
 * What connects to ctrl_tcp on the namespace's loopback (which this process cannot reach) and relays
 * between it and its stdin and stdout, trying for 8 s while baresip starts.
 */
const CTRL_RELAY = `
const net = require('node:net');
const port = Number(process.argv[1]);
const since = Date.now();
(function attempt() {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => {
    process.stdin.pipe(s);
    s.pipe(process.stdout);
    s.on('close', () => process.exit(0));
  });
  s.once('error', () => (Date.now() - since > 8000 ? process.exit(1) : setTimeout(attempt, 100)));
})();
`;

/** baresip's ctrl_tcp in network namespace `netns`, through a relay run there (CTRL_RELAY). */
function ctrlInNamespace(netns: string, port: number): Duplex {
  const [cmd, args] = inNamespace(netns, process.execPath, ['-e', CTRL_RELAY, String(port)]);
  const relay = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const duplex = Duplex.from({ readable: relay.stdout, writable: relay.stdin });
  duplex.on('close', () => relay.kill('SIGKILL'));
  duplex.on('error', () => relay.kill('SIGKILL'));
  return duplex;
}

/** A real baresip as the far-end phone, controlled over its ctrl_tcp JSON/netstring interface. */
export class Baresip {
  readonly events: BaresipEvent[] = [];
  private buffer = Buffer.alloc(0);
  private readonly replies = new Map<string, (r: Record<string, unknown>) => void>();
  private nextToken = 1;
  private consoleOutput = '';
  private consoleSocket: UdpSocket | undefined;

  private constructor(
    readonly sipPort: number,
    readonly recordDir: string,
    readonly child: Child,
    private readonly socket: Duplex,
    readonly user: string,
    private readonly address: string,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  get uri(): string {
    return `sip:${this.user}@${endpointText(this.address, this.sipPort)}`;
  }

  static async start(o: BaresipOptions): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-baresip-'));
    const recordDir = join(dir, 'rec');
    mkdirSync(recordDir);
    // baresip also listens for TLS on its SIP port + 1.
    const address = o.address ?? '127.0.0.1';
    const sipPort = await freePort(o.netns ? '127.0.0.1' : address, 2);
    const ctrlPort = await freePort();
    const consolePort = o.console ? await freePort() : undefined;
    const rtpBase = 40000 + Math.floor(Math.random() * 200) * 100;
    writeFileSync(
      join(dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen ${endpointText(address, sipPort)}`,
        `net_interface ${address}`,
        `audio_source aufile,${o.sourceWav}`,
        'call_max_calls 4',
        `rtp_ports ${rtpBase}-${rtpBase + 99}`,
        'rtcp_mux no',
        'jitter_buffer_delay 1-10',
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module opus.so',
        'module srtp.so',
        'module aufile.so',
        'module sndfile.so',
        'module ctrl_tcp.so',
        ...(o.contacts?.length ? ['module contact.so'] : []),
        ...(consolePort ? ['module cons.so', `cons_listen 127.0.0.1:${consolePort}`] : []),
        'module_tmp account.so',
        'module_app menu.so',
        `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
        `snd_path ${recordDir}`,
        ...(o.config ?? []),
        '',
      ].join('\n'),
    );
    const aor = o.registrarPort
      ? `sip:${o.user}@${endpointText(address, o.registrarPort)}`
      : `sip:${o.user}@${endpointText(address, sipPort)}`;
    const params = [
      o.registrarPort ? `regint=600;auth_pass=${o.password ?? ''}` : 'regint=0',
      `answermode=${o.autoAnswer ? 'auto' : 'manual'}`,
      `audio_codecs=${(o.codecs ?? ['PCMU', 'PCMA']).join(',')}`,
      ...(o.mediaenc ? [`mediaenc=${o.mediaenc}`] : []),
    ];
    const name = o.displayName !== undefined ? `"${o.displayName}" ` : '';
    writeFileSync(join(dir, 'accounts'), `${name}<${aor}>;${params.join(';')}\n`);
    writeFileSync(join(dir, 'contacts'), (o.contacts ?? []).map((c) => `${c}\n`).join(''));
    const child = new Child(`baresip(${o.user})`, ...inNamespace(o.netns, 'baresip', ['-f', dir]));
    const socket = o.netns ? ctrlInNamespace(o.netns, ctrlPort) : await ctrlOnHost(ctrlPort);
    const b = new Baresip(sipPort, recordDir, child, socket, o.user, address);
    if (consolePort) {
      await b.openConsole(consolePort);
    }
    if (o.registrarPort) {
      await waitFor(
        'baresip registration',
        async () => /\sOK\s/.test(stripAnsi(await b.command('reginfo'))),
        8000,
        200,
      );
    }
    return b;
  }

  /** The cons module prints to whoever last sent it a line: a newline (its help) makes that us. */
  private async openConsole(port: number): Promise<void> {
    const udp = createSocket('udp4');
    this.consoleSocket = udp;
    udp.on('message', (m) => (this.consoleOutput += m.toString('utf8')));
    await waitFor(
      'baresip console',
      () => {
        udp.send('\n', port, '127.0.0.1');
        return this.consoleOutput.includes('--- Help ---');
      },
      8000,
      200,
    );
  }

  /** What baresip's UI printed (with the console option). */
  consoleText(): string {
    return this.consoleOutput;
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) {
        return;
      }
      const len = Number(this.buffer.subarray(0, colon).toString());
      if (this.buffer.length < colon + 1 + len + 1) {
        return;
      }
      const json = this.buffer.subarray(colon + 1, colon + 1 + len).toString();
      this.buffer = this.buffer.subarray(colon + 2 + len);
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(json) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (msg.event === true) {
        this.events.push(msg as BaresipEvent);
      } else if (msg.response === true && typeof msg.token === 'string') {
        this.replies.get(msg.token)?.(msg);
        this.replies.delete(msg.token);
      }
    }
  }

  /** Runs a ctrl_tcp command and returns its reply text. */
  command(command: string, params = ''): Promise<string> {
    const token = `t${this.nextToken++}`;
    const body = JSON.stringify({ command, params, token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`baresip ${command}: no reply\n${this.child.tail()}`)),
        5000,
      );
      this.replies.set(token, (r) => {
        clearTimeout(timer);
        resolve(typeof r.data === 'string' ? r.data : JSON.stringify(r));
      });
      this.socket.write(`${Buffer.byteLength(body)}:${body},`);
    });
  }

  async waitForEvent(type: string, timeoutMs = 10_000, since = 0): Promise<BaresipEvent> {
    return waitFor(
      `baresip event ${type}`,
      () => this.events.slice(since).find((e) => e.type === type),
      timeoutMs,
    );
  }

  /** Every WAV file sndfile wrote (encoded and decoded streams), oldest first. */
  recordings(): string[] {
    return readdirSync(this.recordDir)
      .filter((f) => f.endsWith('.wav'))
      .sort()
      .map((f) => join(this.recordDir, f));
  }

  /** WAV files sndfile wrote of what baresip received (decoded), oldest first. */
  receivedRecordings(): string[] {
    return this.recordings().filter((f) => f.endsWith('-dec.wav'));
  }

  log(): string {
    return this.child.tail(60);
  }

  async stop(): Promise<void> {
    this.socket.destroy();
    this.consoleSocket?.close();
    await this.child.stop('SIGTERM', 2000);
  }
}
