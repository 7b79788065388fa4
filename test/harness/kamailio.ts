import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { inNamespace } from './nat-network.js';
import { Child } from './process.js';
import { endpointText, hostOfAddress, ipFamily } from '../../service/core/ip-address.js';

export interface KamailioUser {
  user: string;
  password: string;
}

export interface KamailioOptions {
  users: KamailioUser[];
  /** Digest algorithm the registrar challenges with (auth module's `algorithm` parameter). */
  algorithm?: 'MD5' | 'SHA-256';
  /** Challenge INVITEs and MESSAGEs from local users with 407 (proxy authentication). */
  proxyAuth?: boolean;
  /** Listen on this port (UDP and TCP) instead of a free one picked at start. */
  port?: number;
  /** Also listen for TLS (on the SIP port + 1) with this certificate, and reuse clients' connections. */
  tls?: KamailioTls;
  /**
   * Keep each call's dialog (dialog module) for this many seconds and end it with a BYE to both sides
   * unless it is refreshed: the sst module asks for a session timer of this interval in INVITEs that
   * carry none, and takes each refresh's Session-Expires as the dialog's new lifetime.
   */
  sessionTimerSeconds?: number;
  /** Listen on this address (UDP and TCP) instead of 127.0.0.1. */
  address?: string;
  /** Run in this network namespace (nat-network.ts). */
  netns?: string;
  /**
   * Registrations come through a NAT: each binding keeps the address and port the REGISTER came from
   * (nathelper's fix_nated_register), and requests to the user go there, as an operator's edge does.
   */
  behindNat?: boolean;
  /**
   * Relay INVITEs for other hosts (an address and port not kamailio's own) there, record-routed: the
   * outbound proxy of a car calling far ends elsewhere in the core.
   */
  relayElsewhere?: boolean;
  /**
   * Calls to the first user of each pair are forwarded to the second, as an IMS core's call forwarding
   * unconditional does: the Request-URI changed, History-Info as TS 24.604 writes it added.
   */
  forwardUnconditional?: [string, string][];
}

function passwordSwitch(variable: string, users: KamailioUser[]): string {
  // kamailio does not expand #!define inside strings, so each password is written out here.
  return [
    `  $var(pw) = "";`,
    ...users.map((u) => `  if (${variable} == "${u.user}") { $var(pw) = "${u.password}"; }`),
  ].join('\n');
}

export interface KamailioTls {
  certFile: string;
  keyFile: string;
  /** Require a certificate of every TLS client, signed by one in this PEM file (mutual TLS). */
  clientCaFile?: string;
}

/**
 * kamailio's tls module configuration: its certificate as a server; clients' certificates required and
 * checked against `clientCaFile` where given, not asked for otherwise.
 */
function tlsConfig(tls: KamailioTls): string {
  const clients = tls.clientCaFile
    ? `verify_certificate = yes
require_certificate = yes
ca_list = ${tls.clientCaFile}`
    : `verify_certificate = no
require_certificate = no`;
  return `[server:default]
method = TLSv1.2+
${clients}
private_key = ${tls.keyFile}
certificate = ${tls.certFile}

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`;
}

function sessionTimerConfig(seconds: number | undefined): { modules: string; route: string } {
  if (seconds === undefined) {
    return { modules: '', route: '' };
  }
  return {
    modules: `loadmodule "dialog.so"
loadmodule "sst.so"
modparam("dialog", "dlg_flag", 4)
modparam("dialog", "timeout_avp", "$avp(dlgtimeout)")
modparam("dialog", "default_timeout", ${seconds})
modparam("dialog", "send_bye", 1)
modparam("sst", "sst_flag", 5)
modparam("sst", "timeout_avp", "$avp(dlgtimeout)")
modparam("sst", "min_se", ${seconds})
modparam("sst", "reject_to_small", 0)
`,
    route: `
  if (is_method("INVITE")) {
    setflag(4);
    setflag(5);
    $avp(dlgtimeout) = ${seconds};
    if (is_present_hf("Session-Expires")) { $avp(dlgtimeout) = $(hdr(Session-Expires){s.int}); }
  }`,
  };
}

function config(port: number, o: KamailioOptions, tlsConfigFile: string | undefined): string {
  const sessionTimer = sessionTimerConfig(o.sessionTimerSeconds);
  const address = hostOfAddress(o.address ?? '127.0.0.1');
  const nat = o.behindNat
    ? {
        modules: `loadmodule "nathelper.so"
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("registrar", "received_avp", "$avp(RECEIVED)")
`,
        register: `
    fix_nated_register();`,
      }
    : { modules: '', register: '' };
  // A client's requests carry ;alias in their Via (RFC 5923) so that requests to it reuse its connection.
  const tls = tlsConfigFile
    ? `enable_tls=yes
tcp_accept_aliases=yes
listen=tls:${hostOfAddress(o.address ?? '127.0.0.1')}:${port + 1}
loadmodule "tls.so"
modparam("tls", "config", "${tlsConfigFile}")
`
    : '';
  // One UDP worker: with two, messages a peer sent one after the other were now and then relayed the
  // other way round (a 200 and its ACK, which left the dialog module's timeout BYE reaching one leg; a
  // transferor's 200 to our NOTIFY and the BYE it sent right after, which a test of the re-INVITE that
  // follows the 200 then saw first).
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=2
auto_aliases=no
listen=udp:${address}:${port}
listen=tcp:${address}:${port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
${tls}loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
${sessionTimer.modules}${nat.modules}modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 5)
modparam("auth", "algorithm", "${o.algorithm ?? 'MD5'}")
modparam("auth", "nonce_expire", 300)

request_route {
  xlog("L_INFO", "REQ $rm $ru from $si:$sp proto=$proto expires=$hdr(Expires) privacy=$hdr(Privacy) referred-by=$hdr(Referred-By) session-expires=$hdr(Session-Expires)\\n");${
    o.tls?.clientCaFile
      ? `
  if ($proto == "tls") { xlog("L_INFO", "TLS client certificate CN=$tls_peer_subject_cn verified=$tls_peer_verified\\n"); }`
      : ''
  }
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  # A keep-alive (an OPTIONS to the registrar itself) is answered here, as production configs do.
  if (is_method("OPTIONS") && uri==myself && $rU==$null) { sl_send_reply("200", "OK"); exit; }
  t_check_trans();
  if (is_method("REGISTER")) {
${passwordSwitch('$tU', o.users)}
    if (!pv_www_authenticate("$td", "$var(pw)", "0")) {
      xlog("L_INFO", "AUTH register $tU failed: $rc\\n");
      www_challenge("$td", "0");
      exit;
    }
    consume_credentials();${nat.register}
    save("location");
    exit;
  }
  if (is_method("INVITE|MESSAGE") && ${o.proxyAuth ? 'true' : 'false'}) {
${passwordSwitch('$fU', o.users)}
    if ($var(pw) != "" && !pv_proxy_authenticate("$fd", "$var(pw)", "0")) {
      proxy_challenge("$fd", "0");
      exit;
    }
    consume_credentials();
  }
  loose_route();
  if (is_method("INVITE")) { record_route(); }${sessionTimer.route}${
    o.relayElsewhere ? '\n  if (uri!=myself) { t_relay(); exit; }' : ''
  }
${(o.forwardUnconditional ?? [])
  .map(
    ([from, to]) =>
      `  if (is_method("INVITE") && $rU == "${from}") {
    append_hf("History-Info: <sip:${from}@$rd>;index=1\r\nHistory-Info: <sip:${to}@$rd;cause=302>;index=1.1;mp=1\r\n");
    $rU = "${to}";
  }
`,
  )
  .join('')}  if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  t_relay();
}
`;
}

/** kamailio as registrar and proxy with digest authentication, on a port it picks. */
export class Kamailio {
  private constructor(
    readonly port: number,
    private readonly child: Child,
    readonly address: string,
  ) {}

  get uri(): string {
    return `sip:${endpointText(this.address, this.port)}`;
  }

  /** Where it takes SIP over TLS, when started with `tls`. */
  get tlsUri(): string {
    return `sip:${endpointText(this.address, this.port + 1)};transport=tls`;
  }

  static async start(o: KamailioOptions): Promise<Kamailio> {
    // Probed on this machine's loopback of the address's family: the address may be in a namespace.
    // TLS is on the SIP port + 1: that one must be free too.
    const port =
      o.port ?? (await freePort(ipFamily(o.address ?? '') === 6 ? '::1' : '127.0.0.1', o.tls ? 2 : 1));
    const dir = mkdtempSync(join(tmpdir(), 'carphone-kam-'));
    const cfg = join(dir, 'kamailio.cfg');
    let tlsConfigFile: string | undefined;
    if (o.tls) {
      tlsConfigFile = join(dir, 'tls.cfg');
      writeFileSync(tlsConfigFile, tlsConfig(o.tls));
    }
    writeFileSync(cfg, config(port, o, tlsConfigFile));
    const [command, args] = inNamespace(o.netns, 'kamailio', [
      '-f',
      cfg,
      '-DD',
      '-E',
      '-m',
      '32',
      '-M',
      '4',
      '-Y',
      dir,
      '-P',
      join(dir, 'pid'),
    ]);
    const child = new Child('kamailio', command, args);
    await child
      .waitForLine(/INFO: .*tcp_main|listening on|ready|init_tcp|Listening on/i, 5000)
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    if (child.exited) {
      throw new Error(`kamailio failed to start:\n${child.tail()}`);
    }
    return new Kamailio(port, child, o.address ?? '127.0.0.1');
  }

  log(): string {
    return this.child.tail(80);
  }

  /** A mark in kamailio's log, for logSince. */
  logMark(): number {
    return this.child.mark();
  }

  /** The log lines since `mark`: what kamailio saw after it, however long the run. */
  logSince(mark: number): string[] {
    return this.child.linesSince(mark);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
