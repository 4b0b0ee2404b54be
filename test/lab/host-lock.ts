// Only one lab at a time may join the root namespace as 198.51.100.1 (two would
// fight over the same subnet route). Labs without host access never wait.
// The lock is a file holding the owner's pid; a dead owner's lock is taken over.
import { openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface HostLock {
  release(): void;
}

const LOCK_FILE = path.join(os.tmpdir(), 'ironlb-lab-host.lock');

function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireHostLock(owner: string, timeoutMs = 300_000): Promise<HostLock> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeSync(fd, `${process.pid} ${owner}\n`);
      closeSync(fd);
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          try {
            unlinkSync(LOCK_FILE);
          } catch {
            // removed already (e.g. by a stale-lock takeover after we died)
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = '';
    try {
      holder = readFileSync(LOCK_FILE, 'utf8');
    } catch {
      continue; // released between our open and read
    }
    if (!ownerAlive(Number(holder.split(' ')[0]))) {
      try {
        unlinkSync(LOCK_FILE);
      } catch {
        // another waiter took it over first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`lab host access: ${LOCK_FILE} held by ${holder.trim()} for too long`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
