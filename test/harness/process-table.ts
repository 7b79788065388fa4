import { readdirSync, readFileSync } from 'node:fs';

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
