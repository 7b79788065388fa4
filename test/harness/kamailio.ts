import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { Child } from './process.js';

export interface KamailioUser {
  user: string;
  password: string;
}

export interface KamailioOptions {
  users: KamailioUser[];
  /** Digest algorithm the registrar challenges with (auth module's `algorithm` parameter). */
  algorithm?: 'MD5' | 'SHA-256';
  /** Challenge INVITEs from local users with 407 (proxy authentication). */
  proxyAuth?: boolean;
  /** Listen on this port (UDP and TCP) instead of a free one picked at start. */
  port?: number;
}

function passwordSwitch(variable: string, users: KamailioUser[]): string {
  // kamailio does not expand #!define inside strings, so each password is written out here.
  return [
    `  $var(pw) = "";`,
    ...users.map((u) => `  if (${variable} == "${u.user}") { $var(pw) = "${u.password}"; }`),
  ].join('\n');
}

function config(port: number, o: KamailioOptions): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:${port}
listen=tcp:127.0.0.1:${port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
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
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 5)
modparam("auth", "algorithm", "${o.algorithm ?? 'MD5'}")
modparam("auth", "nonce_expire", 300)

request_route {
  xlog("L_INFO", "REQ $rm $ru from $si:$sp proto=$proto expires=$hdr(Expires)\\n");
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  t_check_trans();
  if (is_method("REGISTER")) {
${passwordSwitch('$tU', o.users)}
    if (!pv_www_authenticate("$td", "$var(pw)", "0")) {
      xlog("L_INFO", "AUTH register $tU failed: $rc\\n");
      www_challenge("$td", "0");
      exit;
    }
    consume_credentials();
    save("location");
    exit;
  }
  if (is_method("INVITE") && ${o.proxyAuth ? 'true' : 'false'}) {
${passwordSwitch('$fU', o.users)}
    if ($var(pw) != "" && !pv_proxy_authenticate("$fd", "$var(pw)", "0")) {
      proxy_challenge("$fd", "0");
      exit;
    }
    consume_credentials();
  }
  loose_route();
  if (is_method("INVITE")) { record_route(); }
  if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  t_relay();
}
`;
}

/** kamailio as registrar and proxy with digest authentication, on a port it picks. */
export class Kamailio {
  private constructor(
    readonly port: number,
    private readonly child: Child,
  ) {}

  get uri(): string {
    return `sip:127.0.0.1:${this.port}`;
  }

  static async start(o: KamailioOptions): Promise<Kamailio> {
    const port = o.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'carphone-kam-'));
    const cfg = join(dir, 'kamailio.cfg');
    writeFileSync(cfg, config(port, o));
    const child = new Child('kamailio', 'kamailio', [
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
    await child
      .waitForLine(/INFO: .*tcp_main|listening on|ready|init_tcp|Listening on/i, 5000)
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    if (child.exited) {
      throw new Error(`kamailio failed to start:\n${child.tail()}`);
    }
    return new Kamailio(port, child);
  }

  log(): string {
    return this.child.tail(80);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
