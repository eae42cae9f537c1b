// AT+MDNS: an mDNS responder (RFC 6762, DNS-SD's RFC 6763) for the board's host name and one
// service, on ECMA-419 UDP multicast (224.0.0.251:5353). It answers A, PTR, SRV, TXT and ANY
// questions, DNS-SD's service enumeration, and announces the service when it starts.
import UDP from "embedded:io/socket/udp";
import type { NetworkInterface } from "xsock/net";
import type { AtConsole, CommandTable } from "./console";
import { isInt, type Param } from "./parser";

const GROUP = "224.0.0.251";
const PORT = 5353;
const TYPE = { A: 1, PTR: 12, TXT: 16, SRV: 33, ANY: 255 } as const;
/** RFC 6762's TTLs: 120 s for records that name the host, 75 min for the others. */
const HOST_TTL = 120;
const OTHER_TTL = 4500;
const SERVICES = ["_services", "_dns-sd", "_udp", "local"];

export interface MdnsService {
  hostname: string;
  /** `_printer`, as AT+MDNS gives it. */
  service: string;
  port: number;
  instance: string;
  /** `_tcp` or `_udp`. */
  proto: string;
  txt: [string, string][];
}

/**
 * `<"hostname">,<"service_type">,<port>[,<"instance">][,<"proto">][,<txt_number>,<"key">,<"value">...]`
 * (what follows AT+MDNS=1): undefined when malformed.
 */
export function parseMdnsService(params: Param[]): MdnsService | undefined {
  const [hostname, service, port, instance, proto, count, ...pairs] = params;
  const text = (p: Param, max = 63): p is string => typeof p === "string" && p.length > 0 && p.length <= max;
  if (!text(hostname) || !text(service) || !isInt(port, 0, 65535)) return undefined;
  if (instance !== undefined && !text(instance)) return undefined;
  if (proto !== undefined && !text(proto)) return undefined;
  if (count === undefined ? pairs.length > 0 : !isInt(count, 1, 20) || pairs.length !== count * 2) return undefined;
  const txt: [string, string][] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    const [key, value] = [pairs[i], pairs[i + 1]];
    if (!text(key, 255) || typeof value !== "string" || key.length + value.length + 1 > 255) return undefined;
    txt.push([key, value]);
  }
  return { hostname, service, port, instance: instance ?? hostname, proto: proto ?? "_tcp", txt };
}

// DNS messages, as much of them as a responder needs.
interface Question {
  name: string;
  type: number;
  /** The unicast-response bit (RFC 6762 5.4). */
  unicast: boolean;
}
interface Record_ {
  /** The name's labels: an instance's own label may hold dots. */
  labels: string[];
  type: number;
  ttl: number;
  data: number[];
  /** A record only this host has: the cache-flush bit goes with it. */
  unique: boolean;
}

function readName(bytes: Uint8Array, start: number): [string, number] {
  const labels: string[] = [];
  let at = start;
  let end = -1;
  for (let jumps = 0; jumps < 32; ) {
    const length = bytes[at];
    if (length === undefined) throw new RangeError("name past the end");
    if (length === 0) {
      if (end < 0) end = at + 1;
      return [labels.join("."), end];
    }
    if ((length & 0xc0) === 0xc0) {
      if (end < 0) end = at + 2;
      at = ((length & 0x3f) << 8) | bytes[at + 1];
      jumps++;
      continue;
    }
    labels.push(String.fromCharCode(...bytes.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  throw new RangeError("name loops");
}

/** The questions of a query; none for a response or a message that does not parse. */
export function parseQuestions(bytes: Uint8Array): Question[] {
  if (bytes.length < 12 || bytes[2] & 0x80) return [];
  const count = (bytes[4] << 8) | bytes[5];
  const questions: Question[] = [];
  let at = 12;
  try {
    for (let i = 0; i < count; i++) {
      const [name, next] = readName(bytes, at);
      if (next + 4 > bytes.length) return questions;
      questions.push({ name, type: (bytes[next] << 8) | bytes[next + 1], unicast: (bytes[next + 2] & 0x80) !== 0 });
      at = next + 4;
    }
  } catch {
    // a name that does not parse ends the questions
  }
  return questions;
}

/** UTF-8, as DNS-SD's names and TXT strings are. */
function utf8(text: string): number[] {
  return Array.from(new Uint8Array(ArrayBuffer.fromString(text)));
}

function nameBytes(labels: string[]): number[] {
  const out: number[] = [];
  for (const label of labels) {
    const b = utf8(label);
    out.push(b.length, ...b);
  }
  out.push(0);
  return out;
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [...u16(Math.floor(n / 65536)), ...u16(n & 0xffff)];

function message(id: number, questions: Question[], answers: Record_[], additionals: Record_[], flush: boolean): ArrayBuffer {
  const out = [...u16(id), 0x84, 0x00, ...u16(questions.length), ...u16(answers.length), 0, 0, ...u16(additionals.length)];
  for (const q of questions) out.push(...nameBytes(q.name.split(".")), ...u16(q.type), 0, 1);
  for (const r of [...answers, ...additionals]) {
    out.push(...nameBytes(r.labels), ...u16(r.type), flush && r.unique ? 0x80 : 0, 1, ...u32(r.ttl), ...u16(r.data.length));
    for (const b of r.data) out.push(b); // one at a time: a spread of a long record takes a stack slot a byte
  }
  return new Uint8Array(out).buffer;
}

/** Moddable's UDP members that the typings leave out. */
type Udp = { add(address: string): void; close(): void };

/** The responder for one host name and service. */
class Responder {
  private readonly socket: UDP;
  private joined = false;
  private readonly host: string[];
  private readonly type: string[];
  private readonly instance: string[];

  constructor(
    private readonly config: MdnsService,
    private readonly address: () => string | undefined,
  ) {
    this.host = [config.hostname, "local"];
    this.type = [config.service, config.proto, "local"];
    this.instance = [config.instance, ...this.type];
    // Moddable's UDP on the ESP32 joins a group with add() (its constructor has no `multicast`),
    // on the interfaces that have an address then.
    this.socket = new UDP({
      port: PORT,
      timeToLive: 255,
      onReadable: (packets: number) => {
        for (let i = 0; i < packets; i++) this.answer(this.socket.read());
      },
    });
    this.join();
  }

  /** Joins the group and announces the service, once the board has an address. */
  join(): void {
    if (this.joined || !this.address()) return;
    (this.socket as unknown as Udp).add(GROUP);
    this.joined = true;
    this.announce();
  }

  close(): void {
    (this.socket as unknown as Udp).close();
  }

  private records(): { a?: Record_; ptr: Record_; srv: Record_; txt: Record_; services: Record_ } {
    const ip = this.address();
    const txt = this.config.txt.length ? this.config.txt.flatMap(([k, v]) => { const b = utf8(`${k}=${v}`); return [b.length, ...b]; }) : [0];
    return {
      a: ip ? { labels: this.host, type: TYPE.A, ttl: HOST_TTL, data: ip.split(".").map(Number), unique: true } : undefined,
      ptr: { labels: this.type, type: TYPE.PTR, ttl: OTHER_TTL, data: nameBytes(this.instance), unique: false },
      srv: { labels: this.instance, type: TYPE.SRV, ttl: HOST_TTL, data: [0, 0, 0, 0, ...u16(this.config.port), ...nameBytes(this.host)], unique: true },
      txt: { labels: this.instance, type: TYPE.TXT, ttl: OTHER_TTL, data: txt, unique: true },
      services: { labels: SERVICES, type: TYPE.PTR, ttl: OTHER_TTL, data: nameBytes(this.type), unique: false },
    };
  }

  /** The service's records, unasked (RFC 6762 8.3), once it starts. */
  private announce(): void {
    const r = this.records();
    if (!r.a) return;
    this.socket.write(message(0, [], [r.ptr, r.srv, r.txt, r.a], [], true), GROUP, PORT);
  }

  private answer(packet: ArrayBuffer & { address: string; port: number }): void {
    const bytes = new Uint8Array(packet);
    const r = this.records();
    if (!r.a) return;
    const is = (name: string, labels: string[]) => name === labels.join(".").toLowerCase();
    const answers: Record_[] = [];
    const additionals: Record_[] = [];
    const questions = parseQuestions(bytes);
    const wants = (q: Question, type: number) => q.type === type || q.type === TYPE.ANY;
    for (const q of questions) {
      const name = q.name.toLowerCase();
      if (is(name, this.host) && wants(q, TYPE.A)) answers.push(r.a);
      else if (is(name, this.type) && wants(q, TYPE.PTR)) {
        answers.push(r.ptr);
        additionals.push(r.srv, r.txt, r.a);
      } else if (is(name, this.instance)) {
        if (wants(q, TYPE.SRV)) answers.push(r.srv);
        if (wants(q, TYPE.TXT)) answers.push(r.txt);
        if (wants(q, TYPE.SRV)) additionals.push(r.a);
      } else if (is(name, SERVICES) && wants(q, TYPE.PTR)) answers.push(r.services);
    }
    if (!answers.length) return;
    const extra = additionals.filter((x) => !answers.includes(x)).filter((x, i, all) => all.indexOf(x) === i);
    // A legacy resolver (not from port 5353) gets its id and questions back, by unicast (RFC 6762 6.7).
    if (packet.port !== PORT) {
      const id = (bytes[0] << 8) | bytes[1];
      this.socket.write(message(id, questions, answers, extra, false), packet.address, packet.port);
    } else if (questions.every((q) => q.unicast)) this.socket.write(message(0, [], answers, extra, true), packet.address, packet.port);
    else this.socket.write(message(0, [], answers, extra, true), GROUP, PORT);
  }
}

/** AT+MDNS=1,... starts the responder (again, with the new settings), AT+MDNS=0 stops it. */
export function mdnsCommands(netif: NetworkInterface): CommandTable {
  let responder: Responder | undefined;
  netif.onEvent((event) => void (event === "gotIP" && responder?.join()));
  return {
    "+MDNS": {
      set: (_at: AtConsole, [mode, ...rest]: Param[]) => {
        if (mode === 0 && rest.length === 0) {
          responder?.close();
          responder = undefined;
          return;
        }
        const service = mode === 1 ? parseMdnsService(rest) : undefined;
        if (!service) return false;
        responder?.close();
        responder = undefined;
        responder = new Responder(service, () => netif.address);
      },
    },
  };
}
