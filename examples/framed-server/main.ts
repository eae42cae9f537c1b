// Framed-message server on port 8000: reads `<N>_<payload>` messages and answers each with
// the framed text "Server notification: data received" (seed: uart-interpreter-networking).
import { AF_INET, SOCK_STREAM, recv_msg, send_msg, socket, type Socket } from "xsock/socket";

const PORT = 8000;

async function serve(conn: Socket, who: string): Promise<void> {
  try {
    for (;;) {
      const message = await recv_msg(conn);
      if (!message) break;
      trace(`framed: ${who} sent ${message.length} bytes: ${String.fromArrayBuffer(message.slice().buffer)}\n`);
      await send_msg(conn, "Server notification: data received");
    }
  } catch (e) {
    trace(`framed: ${who}: ${(e as Error).message}\n`);
  }
  conn.close();
}

async function main(): Promise<void> {
  const s = socket(AF_INET, SOCK_STREAM);
  s.bind(PORT);
  s.listen();
  trace(`framed server listening on ${PORT}\n`);
  for (;;) {
    const [conn, [ip, port]] = await s.accept();
    void serve(conn, `${ip}:${port}`);
  }
}

main().catch((e: Error) => trace(`framed: ${e.message}\n`));
