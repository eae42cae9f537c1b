// select() and poll() over any mix of sockets, listening ones included.
import Timer from "timer";
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from "./constants";
import { SocketError } from "./errors";
import { changeWatchers, type Socket } from "./bsd-socket";

/** Resolves once `ready()` gives an answer, or with `fallback()` after `timeoutMs` (null: never). */
function waitForChange<T>(ready: () => T | undefined, fallback: () => T, timeoutMs: number | null | undefined): Promise<T> {
  const now = ready();
  if (now !== undefined) return Promise.resolve(now);
  if (timeoutMs === 0) return Promise.resolve(fallback());
  return new Promise((resolve) => {
    let timer: ReturnType<typeof Timer.set> | undefined;
    const watcher = () => {
      const answer = ready();
      if (answer === undefined) return;
      changeWatchers().delete(watcher);
      if (timer) Timer.clear(timer);
      resolve(answer);
    };
    changeWatchers().add(watcher);
    if (timeoutMs !== null && timeoutMs !== undefined)
      timer = Timer.set(() => {
        changeWatchers().delete(watcher);
        resolve(fallback());
      }, timeoutMs);
  });
}

/**
 * select(rlist, wlist, xlist, timeoutMs): the sockets of each list that are ready to read
 * (or accept), to write, or in error. No timeout waits forever; 0 polls.
 */
export function select(rlist: Socket[], wlist: Socket[], xlist: Socket[] = [], timeoutMs?: number | null): Promise<[Socket[], Socket[], Socket[]]> {
  if (timeoutMs !== undefined && timeoutMs !== null && !(timeoutMs >= 0)) return Promise.reject(new SocketError("EINVAL", "a timeout is >= 0 ms"));
  const lists = (): [Socket[], Socket[], Socket[]] => [rlist.filter((s) => s.readyToRead), wlist.filter((s) => s.readyToWrite), xlist.filter((s) => s.failed)];
  return waitForChange(
    () => {
      const ready = lists();
      return ready.some((l) => l.length) ? ready : undefined;
    },
    () => [[], [], []],
    timeoutMs,
  );
}

/** Python's select.poll(): register sockets with event masks, then poll(timeoutMs). */
export class Poll {
  #registered = new Map<Socket, number>();

  register(sock: Socket, eventmask = POLLIN | POLLPRI | POLLOUT): void {
    this.#registered.set(sock, eventmask);
  }

  modify(sock: Socket, eventmask: number): void {
    if (!this.#registered.has(sock)) throw new SocketError("EBADF", "socket not registered");
    this.#registered.set(sock, eventmask);
  }

  unregister(sock: Socket): void {
    if (!this.#registered.delete(sock)) throw new SocketError("EBADF", "socket not registered");
  }

  /** [fileno, events] for each registered socket with something to report. */
  poll(timeoutMs?: number | null): Promise<[number, number][]> {
    const events = () => {
      const out: [number, number][] = [];
      for (const [sock, mask] of this.#registered) {
        let ev = 0;
        if (sock.closed) ev = POLLNVAL;
        else {
          if (mask & (POLLIN | POLLPRI) && sock.readyToRead) ev |= POLLIN;
          if (mask & POLLOUT && sock.readyToWrite) ev |= POLLOUT;
          if (sock.failed) ev |= POLLERR;
          if (sock.hungUp) ev |= POLLHUP;
        }
        if (ev) out.push([sock.fileno(), ev]);
      }
      return out.length ? out : undefined;
    };
    return waitForChange(events, () => [], timeoutMs);
  }
}

export function poll(): Poll {
  return new Poll();
}
