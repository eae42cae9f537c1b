// A TCP echo server on ECMA-419 sockets: every byte a client sends comes back to it.
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";
import config from "mc/config";

const listener = new Listener({
  port: Number(config.port ?? 7007),
  onReadable(requests) {
    while (requests-- > 0) {
      const accepted = this.read();
      if (!accepted) break;
      const peer = `${accepted.remoteAddress}:${accepted.remotePort}`;
      let pending: ArrayBuffer[] = [];
      const client: TCP = new TCP({
        from: accepted,
        onReadable(count) {
          const data = this.read(count) as ArrayBuffer;
          pending.push(data);
          flush();
        },
        onWritable() {
          flush();
        },
        onError() {
          trace(`echo: ${peer} closed\n`);
          this.close();
        },
      });
      const flush = () => {
        try {
          while (pending.length) {
            client.write(pending[0]);
            pending.shift();
          }
        } catch {
          // the send buffer is full: onWritable will call again
        }
      };
      trace(`echo: ${peer} connected\n`);
    }
  },
});
trace(`echo: listening on ${listener.port}\n`);
