// TCP through xsock/socket, for benchmarks. mode=echo: send back what comes. mode=sink: read
// each connection to its end, then answer with the byte count. mode=source: send `size`
// bytes to each connection, then close.
import config from "mc/config";
import { AF_INET, SOCK_STREAM, socket, type Socket } from "xsock/socket";

async function sink(conn: Socket): Promise<void> {
  let total = 0;
  for (;;) {
    const data = await conn.recv(8192);
    if (!data.length) break;
    total += data.length;
  }
  await conn.sendall(`${total}\n`);
  conn.close();
}

async function echo(conn: Socket): Promise<void> {
  for (;;) {
    const data = await conn.recv(8192);
    if (!data.length) break;
    await conn.sendall(data);
  }
  conn.close();
}

async function source(conn: Socket): Promise<void> {
  const block = new Uint8Array(8192).fill(0x78);
  for (let left = Number(config.size); left > 0; left -= block.length) await conn.sendall(left >= block.length ? block : block.subarray(0, left));
  conn.close();
}

async function main(): Promise<void> {
  const s = socket(AF_INET, SOCK_STREAM);
  s.bind(["127.0.0.1", Number(config.port)]);
  s.listen();
  trace(`bulk ${String(config.mode)} on ${s.getsockname()[1]}\n`);
  for (;;) {
    const [conn] = await s.accept();
    void ({ echo, sink, source }[String(config.mode) as "echo" | "sink" | "source"] ?? sink)(conn);
  }
}

void main();
