// An MQTT 3.1.1 client over xsock/socket (TCP, or TLS with wrap_socket), or over WebSocket on
// either (MQTT 3.1.1, section 6): QoS 0, 1 and 2 both ways, the keep-alive, the last will. One
// connection: the caller reconnects.
import Timer from "timer";
import { AF_INET, AF_INET6, SOCK_STREAM, socket, wrap_socket, type TlsOptions } from "xsock/socket";
import { WebSocketClient } from "xsock/websocket";
import * as P from "xsock/mqtt-packets";

export interface ClientOptions extends P.ConnectOptions {
  host: string;
  port: number;
  /** TLS for the connection, as wrap_socket takes it. */
  tls?: TlsOptions;
  /** MQTT over WebSocket, to this path (from `/`), with the `mqtt` subprotocol. */
  websocket?: { path: string };
  /** How long the TCP connect and the CONNACK may take, in ms. */
  timeout: number;
}

export interface Message {
  topic: string;
  payload: Uint8Array;
  qos: P.QoS;
  retain: boolean;
}

/** CONNACK's return codes (3.2.2.3). */
/** What the client reads and writes: the socket, or the WebSocket over it. */
interface Stream {
  recv(bufsize: number): Promise<Uint8Array>;
  sendall(bytes: Uint8Array): Promise<void>;
  close(): void;
}

const REFUSED = ["", "unacceptable protocol version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized"];

export class MqttClient {
  /** A message from a subscription. */
  onMessage: (message: Message) => void = () => {};
  /** The connection is gone (the broker closed it, a keep-alive went unanswered, a read failed). */
  onClose: (why: string) => void = () => {};

  #sock?: Stream;
  #reader = new P.PacketReader();
  #lastId = 0;
  /** Replies awaited by packet id (and type): PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK, CONNACK. */
  #awaiting = new Map<string, { resolve: (body: Uint8Array) => void; reject: (e: Error) => void }>();
  /** QoS 2 messages received, kept until their PUBREL: a resent PUBLISH is not delivered twice. */
  #received = new Set<number>();
  #pinger?: ReturnType<typeof Timer.repeat>;
  #pingDue = false;
  #closed = false;

  constructor(readonly options: ClientOptions) {}

  /** Connects and waits for the broker's CONNACK; throws with the reason it refused. */
  async connect(): Promise<void> {
    const o = this.options;
    const sock = socket(o.host.includes(":") ? AF_INET6 : AF_INET, SOCK_STREAM);
    this.#sock = sock;
    if (o.tls) wrap_socket(sock, o.tls);
    sock.settimeout(o.timeout);
    let stream: Stream = sock;
    try {
      await sock.connect([o.host, o.port]);
      if (o.websocket) {
        const ws = new WebSocketClient(sock, { host: o.host, port: o.port, path: o.websocket.path, protocol: "mqtt" });
        await ws.handshake();
        stream = this.#sock = ws;
      }
    } catch (e) {
      sock.close();
      this.#finish("connect failed");
      throw e;
    }
    sock.settimeout(null);
    const connack = this.#await(P.PacketType.CONNACK, 0, o.timeout);
    void this.#readLoop(stream);
    await stream.sendall(P.connect(o));
    const body = await connack;
    if (body.length < 2 || body[1] !== 0) {
      const why = `broker refused: ${REFUSED[body[1]] ?? `code ${body[1]}`}`;
      this.close();
      throw new Error(why);
    }
    if (o.keepalive) this.#startPings(o.keepalive);
  }

  get connected(): boolean {
    return !!this.#sock && !this.#closed;
  }

  /** Publishes; resolves when the QoS's flow has finished (at once for QoS 0). */
  async publish(topic: string, payload: Uint8Array, qos: P.QoS, retain: boolean, timeout: number): Promise<void> {
    const id = qos ? this.#nextId() : 0;
    const done = qos === 1 ? this.#await(P.PacketType.PUBACK, id, timeout) : qos === 2 ? this.#await(P.PacketType.PUBREC, id, timeout) : undefined;
    await this.#send(P.publish({ topic, payload, qos, retain, dup: false, id }));
    if (!done) return;
    await done;
    if (qos === 2) {
      const complete = this.#await(P.PacketType.PUBCOMP, id, timeout);
      await this.#send(P.ack(P.PacketType.PUBREL, id));
      await complete;
    }
  }

  /** Subscribes; resolves with the QoS granted, or throws if the broker refused (0x80). */
  async subscribe(topic: string, qos: P.QoS, timeout: number): Promise<number> {
    const id = this.#nextId();
    const suback = this.#await(P.PacketType.SUBACK, id, timeout);
    await this.#send(P.subscribe(id, topic, qos));
    const body = await suback;
    if (body.length < 3 || body[2] === 0x80) throw new Error(`subscription to ${topic} refused`);
    return body[2];
  }

  async unsubscribe(topic: string, timeout: number): Promise<void> {
    const id = this.#nextId();
    const unsuback = this.#await(P.PacketType.UNSUBACK, id, timeout);
    await this.#send(P.unsubscribe(id, topic));
    await unsuback;
  }

  /** Sends DISCONNECT (the broker then drops the will) and closes. */
  close(): void {
    if (this.#closed) return;
    const sock = this.#sock;
    if (sock)
      sock.sendall(P.disconnect()).then(
        () => sock.close(),
        () => sock.close(),
      );
    this.#finish("closed");
  }

  /** Drops the connection without DISCONNECT, as a lost link does: the broker sends the will. */
  abort(why: string): void {
    if (this.#closed) return;
    this.#sock?.close();
    this.#finish(why);
  }

  #nextId(): number {
    this.#lastId = (this.#lastId % 0xffff) + 1;
    return this.#lastId;
  }

  #send(bytes: Uint8Array): Promise<void> {
    if (!this.#sock || this.#closed) return Promise.reject(new Error("not connected"));
    return this.#sock.sendall(bytes);
  }

  #await(type: number, id: number, timeout: number): Promise<Uint8Array> {
    const key = `${type}:${id}`;
    return new Promise((resolve, reject) => {
      const timer = Timer.set(() => {
        this.#awaiting.delete(key);
        reject(new Error("no reply from the broker in time"));
      }, timeout);
      this.#awaiting.set(key, {
        resolve: (body) => {
          Timer.clear(timer);
          resolve(body);
        },
        reject: (e) => {
          Timer.clear(timer);
          reject(e);
        },
      });
    });
  }

  async #readLoop(sock: Stream): Promise<void> {
    try {
      for (;;) {
        const bytes = await sock.recv(2048);
        if (!bytes.length) throw new Error("the broker closed the connection");
        this.#pingDue = false;
        for (const packet of this.#reader.push(bytes)) this.#handle(packet);
      }
    } catch (e) {
      if (!this.#closed) {
        sock.close();
        this.#finish((e as Error).message);
      }
    }
  }

  #handle(p: P.Packet): void {
    switch (p.type) {
      case P.PacketType.CONNACK:
        this.#settle(`${p.type}:0`, p.body);
        return;
      case P.PacketType.PUBLISH: {
        const m = P.readPublish(p);
        if (m.qos === 1) void this.#send(P.ack(P.PacketType.PUBACK, m.id)).catch(() => {});
        if (m.qos === 2) {
          void this.#send(P.ack(P.PacketType.PUBREC, m.id)).catch(() => {});
          if (this.#received.has(m.id)) return;
          this.#received.add(m.id);
        }
        this.onMessage({ topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain });
        return;
      }
      case P.PacketType.PUBREL: {
        const id = P.packetId(p.body);
        this.#received.delete(id);
        void this.#send(P.ack(P.PacketType.PUBCOMP, id)).catch(() => {});
        return;
      }
      case P.PacketType.PUBACK:
      case P.PacketType.PUBREC:
      case P.PacketType.PUBCOMP:
      case P.PacketType.SUBACK:
      case P.PacketType.UNSUBACK:
        this.#settle(`${p.type}:${P.packetId(p.body)}`, p.body);
        return;
      case P.PacketType.PINGRESP:
        return;
      default:
        throw new Error(`unexpected packet type ${p.type} from the broker`);
    }
  }

  #settle(key: string, body: Uint8Array): void {
    const waiter = this.#awaiting.get(key);
    this.#awaiting.delete(key);
    waiter?.resolve(body);
  }

  /** A PINGREQ each keep-alive period the connection was quiet; no answer by the next one ends it. */
  #startPings(seconds: number): void {
    this.#pinger = Timer.repeat(() => {
      if (this.#pingDue) {
        this.abort("the broker did not answer the keep-alive");
        return;
      }
      this.#pingDue = true;
      void this.#send(P.pingreq()).catch(() => {});
    }, seconds * 1000);
  }

  #finish(why: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pinger) Timer.clear(this.#pinger);
    this.#pinger = undefined;
    for (const waiter of this.#awaiting.values()) waiter.reject(new Error(why));
    this.#awaiting.clear();
    this.onClose(why);
  }
}
