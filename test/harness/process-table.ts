import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The ids of the processes running now, from Linux's /proc. */
export function processIds(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The processes whose parent is `parent`. */
export function childProcesses(parent: number): number[] {
  return processIds().filter((pid) => {
    try {
      // The fields after the command's closing parenthesis: state, then the parent's pid.
      return readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ')[1] === String(parent);
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** The TCP ports (IPv4) on which process `pid` listens, from its file descriptors and /proc/net/tcp. */
export function listeningTcpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) {
        inodes.add(inode);
      }
    } catch {
      // closed meanwhile
    }
  }
  // Lines: "sl local_address rem_address st ... inode"; st 0A is LISTEN; the address is hex ip:port.
  return readFileSync('/proc/net/tcp', 'latin1')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && inodes.has(f[9] ?? ''))
    .map((f) => parseInt(f[1]?.split(':')[1] ?? '0', 16));
}
