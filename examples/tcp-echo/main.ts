// A TCP echo server on ECMA-419 sockets: every byte a client sends comes back to it.
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import config from "mc/config";

/** Bytes read and not yet written back that a client may have. */
const HELD = 4096;

const listener = new Listener({
  port: Number(config.port ?? 7007),
  onReadable(requests) {
    while (requests-- > 0) {
      const accepted = this.read();
      if (!accepted) break;
      const peer = `${accepted.remoteAddress}:${accepted.remotePort}`;
      let pending = new Uint8Array(0);
      let readable = 0;
      let writable = 0;
      let peerClosed = false;
      const client: TCP = new TCP({
        from: accepted,
        onReadable(count) {
          readable = count;
          take();
          flush();
        },
        onWritable(count) {
          writable = count;
          flush();
        },
        onError() {
          // The peer has closed: send back what is still queued, then close.
          peerClosed = true;
          flush();
        },
      });
      // Reads while it holds less than HELD: what it leaves unread stays in the socket, whose
      // window then holds the client back, instead of the board's heap filling up.
      const take = () => {
        const n = Math.min(readable, HELD - pending.length);
        if (n <= 0) return false;
        const data = new Uint8Array(client.read(n) as ArrayBuffer);
        readable -= data.length;
        const joined = new Uint8Array(pending.length + data.length);
        joined.set(pending);
        joined.set(data, pending.length);
        pending = joined;
        return data.length > 0;
      };
      // Writes no more than the send buffer has room for; onWritable says when there is more.
      const flush = () => {
        const n = Math.min(writable, pending.length);
        if (n > 0) {
          client.write(pending.subarray(0, n));
          pending = pending.subarray(n);
          writable -= n;
          if (take()) flush();
        }
        if (peerClosed && !pending.length) {
          trace(`echo: ${peer} closed\n`);
          client.close();
        }
      };
      trace(`echo: ${peer} connected\n`);
    }
  },
});
trace(`echo: listening on ${listener.port}\n`);
