// Chat room on port 5000, with select: announces who enters and leaves, relays each message
// to every other client, and drops a broken client without disturbing the rest
// (seed: pi-network-programming).
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, select, socket, type Socket } from "xsock/socket";

const PORT = 5000;
const RECV_BUFFER = 4096;
const server = socket(AF_INET, SOCK_STREAM);
const connections: Socket[] = [server];
const names = new Map<Socket, string>();

const text = (bytes: Uint8Array) => String.fromArrayBuffer(bytes.slice().buffer);

function drop(sock: Socket): void {
  sock.close();
  names.delete(sock);
  connections.splice(connections.indexOf(sock), 1);
}

/** Sends to everyone but the server and the sender; a client that fails is dropped. */
async function broadcast(sender: Socket, message: string): Promise<void> {
  for (const sock of connections.slice()) {
    if (sock === server || sock === sender) continue;
    try {
      await sock.sendall(message);
    } catch {
      trace(`chat: dropping ${names.get(sock)}\n`);
      drop(sock);
    }
  }
}

async function main(): Promise<void> {
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  server.bind(["0.0.0.0", PORT]);
  server.listen(10);
  trace(`Chat server started on port ${PORT}\n`);
  for (;;) {
    const [readable] = await select(connections, [], []);
    for (const sock of readable) {
      if (sock === server) {
        const [conn, [ip, port]] = await server.accept();
        connections.push(conn);
        names.set(conn, `('${ip}', ${port})`);
        trace(`Client (${ip}, ${port}) connected\n`);
        await broadcast(conn, `[${ip}:${port}] entered room\n`);
        continue;
      }
      if (!connections.includes(sock)) continue; // dropped by a broadcast meanwhile
      let data: Uint8Array;
      try {
        data = await sock.recv(RECV_BUFFER);
      } catch {
        data = new Uint8Array(0);
      }
      if (data.length) {
        await broadcast(sock, `\r<${names.get(sock)}> ${text(data)}`);
      } else {
        const who = names.get(sock)!.slice(1, -1).replace(/'/g, "");
        trace(`Client (${who}) is offline\n`);
        drop(sock);
        await broadcast(sock, `Client (${who}) is offline\n`);
      }
    }
  }
}

main().catch((e: Error) => trace(`chat: ${e.message}\n`));
