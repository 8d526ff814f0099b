import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';

/**
 * TCP port checks for the stack: is anything listening, and (Linux, best effort) who.
 */

/** True when a TCP connection to host:port succeeds within `timeoutMs` (default 1 s). */
export function isPortOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True for addresses this machine can bind a server to for the stack. */
export function isLocalHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

/**
 * Who listens on TCP `port`, as `pid 123 (redis-server)`, read from /proc/net/tcp{,6} and the
 * processes' fd tables. Null when unknown: no /proc, or the holder belongs to another user
 * whose fds we cannot read. Only used to word error messages, never to decide what to kill.
 */
export function describePortHolder(port: number): string | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      // No /proc (macOS) or no IPv6 table: nothing to learn from it.
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // st 0A = LISTEN; field 9 is the socket inode.
      if (local === undefined || fields[3] !== '0A' || fields[9] === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of listPids()) {
    for (const fd of listDir(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        // The fd closed while we looked, or it is not ours to read.
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1] !== undefined && inodes.has(match[1])) {
        return `pid ${pid} (${readComm(pid)})`;
      }
    }
  }
  return null;
}

function listPids(): string[] {
  return listDir('/proc').filter((name) => /^\d+$/.test(name));
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    // Unreadable (another user's process, or it exited): skip it.
    return [];
  }
}

function readComm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
