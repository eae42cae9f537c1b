// UDP client: sends each line typed on the console UART to the server in its config and
// prints the reply (seed: pi-network-programming).
import config from "mc/config";
import { AF_INET, SOCK_DGRAM, socket } from "xsock/socket";
import { Uart, consoleConfig } from "xsock/uart";

const server: [string, number] = [String(config.host), Number(config.port)];
const s = socket(AF_INET, SOCK_DGRAM);
s.settimeout(2000);

let line = "";
let busy: Promise<void> = Promise.resolve();
const uart = new Uart(consoleConfig(config), (bytes) => {
  for (const b of bytes) {
    if (b === 0x0a || b === 0x0d) {
      if (line) {
        const msg = line;
        busy = busy.then(() => send(msg));
      }
      line = "";
    } else line += String.fromCharCode(b);
  }
});
const print = (text: string) => uart.write(new Uint8Array(ArrayBuffer.fromString(text)));

async function send(msg: string): Promise<void> {
  try {
    await s.sendto(msg, server);
    const [reply] = await s.recvfrom(1024);
    print(`Server reply : ${String.fromArrayBuffer(reply.slice().buffer)}\r\n`);
  } catch (e) {
    print(`Error: ${(e as Error).message}\r\n`);
  }
  print("Enter message to send : ");
}

print("Enter message to send : ");
