// A UDP echo server on an ECMA-419 socket: each datagram goes back to its sender.
import UDP from "embedded:io/socket/udp";
import config from "mc/config";

const udp = new UDP({
  port: Number(config.port ?? 7007),
  onReadable(packets) {
    while (packets-- > 0) {
      const packet = this.read();
      if (!packet) break;
      this.write(packet, packet.address, packet.port);
    }
  },
});
trace(`udp echo: listening on ${(udp as unknown as { port: number }).port}\n`);
