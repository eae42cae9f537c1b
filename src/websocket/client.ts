// A WebSocket client (RFC 6455) over a connected xsock/socket stream (TCP, or TLS for wss): the
// opening handshake as ESP-IDF's transport_ws sends it, then binary messages as one byte stream
// both ways, as MQTT over WebSocket uses them. Pings are answered, a close is echoed.
import type { Socket } from "xsock/socket";
import { decodeLatin1, encodeLatin1 } from "xsock/latin1";
import { acceptKey, base64 } from "xsock/websocket-accept";
import { encodeFrame, FrameReader, frameHead, maskInto, Opcode } from "xsock/websocket-frames";

export interface WebSocketOptions {
  /** The Host header's host and port. */
  host: string;
  port: number;
  /** The request's path, from `/`. */
  path: string;
  /** The subprotocol asked for; the server must choose it. */
  protocol: string;
}

/** A payload is masked and sent in pieces of this size, so a large one needs no second copy. */
const PIECE = 1024;
/** The handshake's response may be this long at most. */
const MAX_RESPONSE = 4096;

const randomBytes = (n: number): Uint8Array => {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (Math.random() * 256) | 0;
  return bytes;
};

/** Finds CR-LF CR-LF in bytes; -1 if it is not there. */
const headerEnd = (bytes: Uint8Array): number => {
  for (let i = 3; i < bytes.length; i++) if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  return -1;
};

export class WebSocketClient {
  #reader = new FrameReader();
  /** Data received and not yet taken by recv. */
  #data: Uint8Array[] = [];
  /** Frames go out one after another: a large one's pieces must not mix with another's. */
  #sending: Promise<void> = Promise.resolve();
  #closing = false;

  constructor(
    readonly sock: Socket,
    readonly options: WebSocketOptions,
  ) {}

  /** The opening handshake; throws if the server does not answer 101 with the right key and subprotocol. */
  async handshake(): Promise<void> {
    const o = this.options;
    const key = base64(randomBytes(16));
    await this.sock.sendall(
      encodeLatin1(
        `GET ${o.path} HTTP/1.1\r\nConnection: Upgrade\r\nHost: ${o.host}:${o.port}\r\nUser-Agent: ESP32 Websocket Client\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Protocol: ${o.protocol}\r\n\r\n`,
      ),
    );
    let response = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const bytes = await this.sock.recv(MAX_RESPONSE);
      if (!bytes.length) throw new Error("the server closed during the handshake");
      const joined = new Uint8Array(response.length + bytes.length);
      joined.set(response);
      joined.set(bytes, response.length);
      response = joined;
      end = headerEnd(response);
      if (end < 0 && response.length >= MAX_RESPONSE) throw new Error("the handshake's response is too long");
    }
    const [status, ...lines] = decodeLatin1(response.subarray(0, end - 4)).split("\r\n");
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (!/^HTTP\/1\.1 101\b/.test(status)) throw new Error(`the server answered ${status}`);
    if (headers.get("upgrade")?.toLowerCase() !== "websocket" || !/\bupgrade\b/i.test(headers.get("connection") ?? "")) throw new Error("no upgrade to websocket");
    if (headers.get("sec-websocket-accept") !== acceptKey(key)) throw new Error("a wrong Sec-WebSocket-Accept");
    // MQTT 3.1.1, 6.0: the server selects the mqtt subprotocol; one that does not is no MQTT server.
    if (headers.get("sec-websocket-protocol") !== o.protocol) throw new Error(`the server did not choose the ${o.protocol} subprotocol`);
    if (end < response.length) this.#take(response.subarray(end));
  }

  /** Up to bufsize bytes of the messages' data; empty once the connection has closed. */
  async recv(bufsize: number): Promise<Uint8Array> {
    while (!this.#data.length) {
      if (this.#closing) return new Uint8Array(0);
      const bytes = await this.sock.recv(bufsize);
      if (!bytes.length) return bytes;
      this.#take(bytes);
    }
    const first = this.#data[0];
    if (first.length <= bufsize) return this.#data.shift()!;
    this.#data[0] = first.subarray(bufsize);
    return first.subarray(0, bufsize);
  }

  /** Sends bytes as one binary message. */
  sendall(data: Uint8Array): Promise<void> {
    return this.#send(Opcode.binary, data);
  }

  close(): void {
    this.sock.close();
  }

  #send(opcode: number, payload: Uint8Array): Promise<void> {
    const sending = this.#sending.then(() => this.#write(opcode, payload));
    this.#sending = sending.catch(() => {});
    return sending;
  }

  async #write(opcode: number, payload: Uint8Array): Promise<void> {
    const mask = randomBytes(4);
    if (payload.length <= PIECE) return this.sock.sendall(encodeFrame(opcode, payload, mask));
    await this.sock.sendall(frameHead(opcode, payload.length, mask));
    const piece = new Uint8Array(PIECE);
    for (let at = 0; at < payload.length; at += PIECE) {
      const part = payload.subarray(at, at + PIECE);
      maskInto(piece, 0, part, mask, at);
      await this.sock.sendall(part.length === PIECE ? piece : piece.subarray(0, part.length));
    }
  }

  /** Bytes from the server: data kept for recv, pings answered, a close echoed (5.5.1) and the end of data. */
  #take(bytes: Uint8Array): void {
    for (const piece of this.#reader.push(bytes)) {
      if (piece.opcode === Opcode.ping) void this.#send(Opcode.pong, piece.payload).catch(() => {});
      else if (piece.opcode === Opcode.close) {
        if (!this.#closing) void this.#send(Opcode.close, piece.payload.subarray(0, 2)).catch(() => {});
        this.#closing = true;
      } else if (piece.opcode !== Opcode.pong && piece.payload.length && !this.#closing) this.#data.push(piece.payload);
    }
  }
}
