// A UDP echo server on an ECMA-419 socket: each datagram goes back to its sender.
import UDP from "embedded:io/socket/udp";
import config from "mc/config";

const port = Number(config.port ?? 7007);
new UDP({
  port,
  onReadable(packets) {
    while (packets-- > 0) {
      const packet = this.read();
      if (!packet) break;
      this.write(packet, packet.address, packet.port);
    }
  },
});
// Moddable's UDP socket does not tell its port: the one asked for is the one it has.
trace(`udp echo: listening on ${port}\n`);
