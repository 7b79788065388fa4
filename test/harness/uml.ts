import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './carphoned.js';

/** Debian's user-mode-linux kernel: it has AF_CAN and vcan even where the host kernel has neither. */
export const UML_KERNEL = '/usr/bin/linux';
const MODULES = '/usr/lib/uml/modules';

/**
 * Debian's UML kernel (6.1) sizes its saved FPU state for CPUs without AVX-512; on a host whose XSAVE
 * area is larger, the host kernel refuses the partial PTRACE_SETREGSET with EFAULT and UML panics at its
 * first user process. Nothing can run there, so tests report it as a skip with this reason.
 */
export class UmlCannotRunHere extends Error {
  constructor(console: string) {
    super(
      `user-mode-linux cannot run user processes on this host (its XSAVE area is larger than Debian's UML 6.1 supports): ${
        /userspace - .*/.exec(console)?.[0] ?? ''
      }`,
    );
    this.name = 'UmlCannotRunHere';
  }
}

export function umlAvailable(): boolean {
  return existsSync(UML_KERNEL) && existsSync(MODULES);
}

/**
 * Boots user-mode-linux on the host's own filesystem (hostfs), loads the CAN modules, brings up
 * vcan0, runs `command` there and returns what it printed. The whole boot takes a few seconds.
 */
export async function runInUml(command: string, timeoutMs = 60_000): Promise<string> {
  const version = readdirSync(MODULES)[0];
  if (!version) {
    throw new Error(`no kernel modules under ${MODULES}`);
  }
  const m = `${MODULES}/${version}/kernel`;
  const dir = mkdtempSync(join(tmpdir(), 'carphone-uml-'));
  const out = join(dir, 'out.txt');
  const init = join(dir, 'init.sh');
  writeFileSync(
    init,
    [
      '#!/bin/sh',
      'mount -t proc proc /proc',
      'mount -t sysfs sys /sys',
      `for k in net/can/can net/can/can-raw drivers/net/can/dev/can-dev drivers/net/can/vcan; do insmod ${m}/$k.ko; done`,
      'ip link set lo up',
      'ip link add dev vcan0 type vcan && ip link set vcan0 up',
      `export PATH=${process.env.PATH ?? '/usr/bin:/bin'} HOME=/tmp`,
      `cd ${REPO}`,
      `( ${command} ) > ${out} 2>&1`,
      `echo "uml-exit $?" >> ${out}`,
      'halt -f -p',
      '',
    ].join('\n'),
  );
  chmodSync(init, 0o755);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      UML_KERNEL,
      ['mem=1G', 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${init}`, 'con=null', 'con0=fd:0,fd:1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let console = '';
    child.stdout.on('data', (d: Buffer) => (console += d.toString()));
    child.stderr.on('data', (d: Buffer) => (console += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`user-mode-linux did not finish within ${timeoutMs} ms:\n${console.slice(-2000)}`));
    }, timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      if (!existsSync(out) && /userspace - ptrace set fp regs failed, errno = 14/.test(console)) {
        reject(new UmlCannotRunHere(console));
        return;
      }
      if (!existsSync(out)) {
        reject(new Error(`user-mode-linux ran nothing:\n${console.slice(-3000)}`));
        return;
      }
      resolve();
    });
  });
  return readFileSync(out, 'utf8');
}
