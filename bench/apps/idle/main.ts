// Accepts connections and holds them open, idle: what an open TCP socket costs in the heap.
import config from "mc/config";
import { AF_INET, SOCK_STREAM, socket, type Socket } from "xsock/socket";

const held: Socket[] = [];

async function main(): Promise<void> {
  const s = socket(AF_INET, SOCK_STREAM);
  s.bind(["127.0.0.1", Number(config.port)]);
  s.listen();
  trace(`idle on ${s.getsockname()[1]}\n`);
  for (;;) {
    const [conn] = await s.accept();
    held.push(conn);
    trace(`holding ${held.length}\n`);
  }
}

void main();
