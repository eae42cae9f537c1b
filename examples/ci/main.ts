// A small app for the CI recipe: a console on the UART ("ping", "clients"), a TCP service
// that answers each line in upper case, and a UDP service that acknowledges each datagram.
import config from "mc/config";
import { AF_INET, SOCK_DGRAM, SOCK_STREAM, socket, type Socket } from "xsock/socket";
import { Uart, consoleConfig } from "xsock/uart";

const text = (bytes: Uint8Array) => String.fromArrayBuffer(bytes.slice().buffer);
const bytes = (s: string) => new Uint8Array(ArrayBuffer.fromString(s));

let clients = 0;
let typed = "";
const uart = new Uart(consoleConfig(config), (data) => {
  typed += text(data);
  for (let end = typed.indexOf("\n"); end >= 0; end = typed.indexOf("\n")) {
    const line = typed.slice(0, end).trim();
    typed = typed.slice(end + 1);
    if (line === "ping") say("pong");
    else if (line === "clients") say(`clients: ${clients}`);
    else if (line) say(`error: unknown command "${line}"`);
  }
});
const say = (line: string) => uart.write(bytes(`${line}\r\n`));

async function serveClient(conn: Socket): Promise<void> {
  clients++;
  let pending = "";
  try {
    for (;;) {
      const data = await conn.recv(512);
      if (!data.length) break;
      pending += text(data);
      for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
        await conn.sendall(bytes(`${pending.slice(0, end).toUpperCase()}\n`));
        pending = pending.slice(end + 1);
      }
    }
  } finally {
    clients--;
    conn.close();
  }
}

async function serveTcp(server: Socket): Promise<void> {
  for (;;) {
    const [conn] = await server.accept();
    serveClient(conn).catch((e: Error) => say(`tcp: ${e.message}`));
  }
}

async function serveUdp(s: Socket): Promise<void> {
  for (;;) {
    const [data, from] = await s.recvfrom(512);
    await s.sendto(bytes(`ack:${text(data)}`), from);
  }
}

// Both ports are bound before the app says it is ready, so a test may connect at once. Port 0
// in the config takes one the system picks, and the ready line says which.
const tcp = socket(AF_INET, SOCK_STREAM);
tcp.bind(["", Number(config.port)]);
tcp.listen(2);
const udp = socket(AF_INET, SOCK_DGRAM);
udp.bind(["", Number(config.udpPort)]);
serveTcp(tcp).catch((e: Error) => say(`tcp: ${e.message}`));
serveUdp(udp).catch((e: Error) => say(`udp: ${e.message}`));
say(`ci-demo ready: tcp ${tcp.getsockname()[1]}, udp ${udp.getsockname()[1]}`);
