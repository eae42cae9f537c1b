// Telnet client: bridges the console UART to a TCP connection, watching the socket with
// select, as the seed's telnet program does (seed: pi-network-programming).
import config from "mc/config";
import { AF_INET, SOCK_STREAM, select, socket } from "xsock/socket";
import { Uart, consoleConfig } from "xsock/uart";

const s = socket(AF_INET, SOCK_STREAM);
const typed: Uint8Array[] = [];
const uart = new Uart(consoleConfig(config), (bytes) => {
  typed.push(bytes);
  void flush();
});
const print = (text: string) => uart.write(new Uint8Array(ArrayBuffer.fromString(text)));

let connected = false;
async function flush(): Promise<void> {
  while (connected && typed.length) await s.sendall(typed.shift()!);
}

async function main(): Promise<void> {
  s.settimeout(2000);
  try {
    await s.connect([String(config.host), Number(config.port)]);
  } catch {
    print("Unable to connect\r\n");
    return;
  }
  print("Connected to remote host\r\n");
  connected = true;
  await flush();
  for (;;) {
    const [readable] = await select([s], [], []);
    if (!readable.length) continue;
    const data = await s.recv(4096);
    if (!data.length) {
      print("Connection closed\r\n");
      connected = false;
      s.close();
      return;
    }
    uart.write(data);
  }
}

void main();
