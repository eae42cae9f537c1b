// ESP-AT's MQTT commands (MQTT_AT_Commands.rst): MQTTUSERCFG, MQTTLONGCLIENTID/USERNAME/
// PASSWORD, MQTTCONNCFG, MQTTALPN, MQTTSNI, MQTTCONN, MQTTPUB, MQTTPUBRAW, MQTTSUB, MQTTUNSUB,
// MQTTCLEAN, and the unsolicited +MQTTCONNECTED, +MQTTDISCONNECTED and +MQTTSUBRECV. Link id 0
// only, as ESP-AT. The protocol is src/mqtt's client, over xsock/socket, or over src/websocket's
// client for schemes 6 to 10.
import { MqttClient, type Message } from "xsock/mqtt";
import type { QoS } from "xsock/mqtt-packets";
import { decodeLatin1, encodeLatin1, REPLIED, type AtConsole, type Clock, type CommandTable, type Handler } from "./console";
import { isInt, type Param } from "./parser";
import type { Pki } from "./cas";

/** MQTT_AT_Commands.rst's states, as AT+MQTTCONN? and AT+MQTTSUB? print them. */
const State = { uninitialized: 0, userConfigured: 1, connConfigured: 2, disconnected: 3, connected: 4, subscribed: 6 } as const;

/** Some of the doc's error codes (`ERR CODE:0x<code>` with AT+SYSLOG=1). */
const Err = {
  noConfigured: 0x6001,
  uninitiated: 0x6003,
  alreadyConnected: 0x6004,
  parameterCounts: 0x6008,
  tlsConfig: 0x6009,
  clientStart: 0x600b,
  publish: 0x600c,
  subscribe: 0x600d,
  unsubscribe: 0x600e,
  linkId: 0x6011,
  scheme: 0x6013,
  clientIdNull: 0x6015,
  overlength: 0x6016,
  keepalive: 0x602d,
  qos: 0x6048,
  disconnected: 0x6051,
} as const;

/** ESP-AT's limit: up to 10 topics subscribed. */
const MAX_TOPICS = 10;
/** esp-mqtt's reconnect interval (MQTT_RECON_DEFAULT_MS). */
export const RECONNECT_MS = 10000;
/** The commands' `<timeout_ms>` default and range. */
const TIMEOUT = { default: 15000, min: 3000, max: 60000 };

interface MqttConfig {
  scheme: number;
  clientId: string;
  username: string;
  password: string;
  path: string;
  keepalive: number;
  clean: boolean;
  will?: { topic: string; message: string; qos: QoS; retain: boolean };
  alpn: string[];
  sni?: string;
}

export interface MqttDeps {
  clock: Clock;
  /** The station (or Ethernet) has an address: a broker can be reached. */
  online: () => boolean;
  /** The TLS schemes' CA (3 and 5), and client certificate and key (4 and 5): AT+SYSMFG's mqtt_* namespaces, or the build's. */
  certificates: { readonly mqttCa: ArrayBuffer | undefined; readonly mqttPki: Pki | undefined };
}

const fail = (at: AtConsole, code: number): typeof REPLIED => {
  at.error(code);
  return REPLIED;
};

/** Schemes 6 to 10 are 1 to 5 over WebSocket: the same TLS and certificates as `scheme - 5`. */
const tlsScheme = (scheme: number): number => (scheme > 5 ? scheme - 5 : scheme);
const needsCa = (scheme: number): boolean => tlsScheme(scheme) === 3 || tlsScheme(scheme) === 5;
const needsPki = (scheme: number): boolean => tlsScheme(scheme) >= 4;

const timeoutParam = (p: Param) => (p === undefined ? TIMEOUT.default : isInt(p, TIMEOUT.min, TIMEOUT.max) ? p : undefined);

/** The MQTT link 0: its configuration, its connection and its subscriptions. */
class MqttLink {
  config?: MqttConfig;
  state: number = State.uninitialized;
  host = "";
  port = 0;
  reconnect = false;
  client?: MqttClient;
  topics = new Map<string, QoS>();
  #retry?: () => void;

  constructor(
    readonly at: AtConsole,
    readonly deps: MqttDeps,
  ) {}

  get connected(): boolean {
    return this.state >= State.connected;
  }

  /** Connects with the configuration as it is; resolves once the broker has accepted. */
  async connect(timeout: number): Promise<void> {
    const c = this.config!;
    const tls = tlsScheme(c.scheme) >= 2;
    const ca = needsCa(c.scheme) ? this.deps.certificates.mqttCa : undefined;
    const pki = needsPki(c.scheme) ? this.deps.certificates.mqttPki : undefined;
    const client = new MqttClient({
      host: this.host,
      port: this.port,
      tls: tls ? { verify: !!ca, ca, server_hostname: c.sni ?? this.host, ...(pki && { certificate: pki.cert, key: pki.key }) } : undefined,
      websocket: c.scheme >= 6 ? { path: c.path } : undefined,
      clientId: c.clientId,
      username: c.username || undefined,
      password: c.password || undefined,
      keepalive: c.keepalive,
      clean: c.clean,
      will: c.will && { ...c.will, message: encodeLatin1(c.will.message) },
      timeout,
    });
    client.onMessage = (m) => this.#received(m);
    client.onClose = () => this.#lost(client);
    this.client = client;
    await client.connect();
    this.state = this.topics.size ? State.subscribed : State.connected;
    this.at.unsolicited(encodeLatin1(`+MQTTCONNECTED:0,${c.scheme},"${this.host}","${this.port}","${c.path}",${this.reconnect ? 1 : 0}\r\n`));
  }

  #received(m: Message): void {
    const head = encodeLatin1(`+MQTTSUBRECV:0,"${m.topic}",${m.payload.length},`);
    const line = new Uint8Array(head.length + m.payload.length + 2);
    line.set(head);
    line.set(m.payload, head.length);
    line.set([13, 10], head.length + m.payload.length);
    this.at.unsolicited(line);
  }

  /** The connection dropped: +MQTTDISCONNECTED, then, with reconnect, tries again every RECONNECT_MS. */
  #lost(client: MqttClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.state = State.disconnected;
    this.at.unsolicited(encodeLatin1("+MQTTDISCONNECTED:0\r\n"));
    if (this.reconnect) this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    this.#retry = this.deps.clock.after(RECONNECT_MS, () => {
      this.#retry = undefined;
      if (this.state !== State.disconnected || !this.reconnect) return;
      this.connect(TIMEOUT.default).then(
        () => this.#resubscribe(),
        () => {
          if (this.client && !this.client.connected) this.client = undefined;
          if (this.state === State.disconnected && !this.#retry) this.#scheduleRetry();
        },
      );
    });
  }

  /** After a reconnection the topics are asked for again, as the session may be new. */
  #resubscribe(): void {
    for (const [topic, qos] of this.topics) void this.client?.subscribe(topic, qos, TIMEOUT.default).catch(() => {});
  }

  /** AT+MQTTCLEAN: closes the connection and forgets everything. */
  clean(): void {
    this.#retry?.();
    this.#retry = undefined;
    const client = this.client;
    this.client = undefined;
    client?.close();
    this.config = undefined;
    this.state = State.uninitialized;
    this.topics.clear();
    this.reconnect = false;
  }
}

// The table and its handlers are the module's own, not closures made at boot: preloaded, they
// live in flash on the board and cost no heap. mqttCommands gives them the link.
let link: MqttLink;

/** A set command on link 0, once MQTTUSERCFG has run. */
const configured =
  (handler: Handler): Handler =>
  (a, params, command) => {
    if (params[0] !== 0) return fail(a, Err.linkId);
    if (!link.config) return fail(a, Err.noConfigured);
    return handler(a, params, command);
  };

/** MQTTLONGCLIENTID and the others: `>`, then `<length>` bytes, then OK. */
const long = (apply: (c: MqttConfig, value: string) => void): Handler =>
  configured(async (a, [, length, ...rest]) => {
    if (rest.length || !isInt(length, 1, 1024)) return false;
    const data = await a.payload(length);
    if (!data) {
      a.error();
      return REPLIED;
    }
    apply(link.config!, decodeLatin1(data));
    a.send("\r\nOK\r\n");
    return REPLIED;
  });

const MQTT_COMMANDS: CommandTable = {
  "+MQTTUSERCFG": {
    set: (a, params) => {
      const [id, scheme, clientId, username, password, certKeyId, caId, path, ...rest] = params;
      if (rest.length || params.length !== 8) return fail(a, Err.parameterCounts);
      if (id !== 0) return fail(a, Err.linkId);
      if (!isInt(scheme, 1, 10)) return fail(a, Err.scheme);
      if (typeof clientId !== "string" || !clientId) return fail(a, Err.clientIdNull);
      if (typeof username !== "string" || typeof password !== "string" || typeof path !== "string") return false;
      if (clientId.length > 256 || username.length > 64 || password.length > 64 || path.length > 32) return fail(a, Err.overlength);
      if (certKeyId !== 0 || caId !== 0) return false;
      if (link.connected) return fail(a, Err.alreadyConnected);
      // A WebSocket path is a request's, from `/`: the doc's "mqtt" connects as "/mqtt".
      const wsPath = scheme >= 6 && path[0] !== "/" ? `/${path}` : path;
      link.config = { scheme, clientId, username, password, path: wsPath, keepalive: 120, clean: true, alpn: [] };
      link.state = State.userConfigured;
    },
  },
  "+MQTTLONGCLIENTID": { set: long((c, v) => (c.clientId = v)) },
  "+MQTTLONGUSERNAME": { set: long((c, v) => (c.username = v)) },
  "+MQTTLONGPASSWORD": { set: long((c, v) => (c.password = v)) },
  "+MQTTCONNCFG": {
    set: configured((a, params) => {
      const [, keepalive, disableClean, lwtTopic, lwtMsg, lwtQos, lwtRetain, ...rest] = params;
      if (rest.length || params.length !== 7) return fail(a, Err.parameterCounts);
      if (!isInt(keepalive, 0, 7200)) return fail(a, Err.keepalive);
      if (!isInt(disableClean, 0, 1) || !isInt(lwtQos, 0, 2) || !isInt(lwtRetain, 0, 1)) return false;
      if (typeof lwtTopic !== "string" || typeof lwtMsg !== "string" || lwtTopic.length > 128 || lwtMsg.length > 128) return false;
      const c = link.config!;
      c.keepalive = keepalive || 120; // 0 is "force-changed to 120 s"
      c.clean = disableClean === 0;
      c.will = lwtTopic ? { topic: lwtTopic, message: lwtMsg, qos: lwtQos as QoS, retain: lwtRetain === 1 } : undefined;
      if (link.state < State.connConfigured) link.state = State.connConfigured;
    }),
  },
  "+MQTTALPN": {
    set: configured((_a, [, count, ...names]) => {
      if (!isInt(count, 0, 5) || names.length !== count || names.some((n) => typeof n !== "string" || !n)) return false;
      link.config!.alpn = names as string[];
    }),
  },
  "+MQTTSNI": {
    set: configured((_a, [, sni, ...rest]) => {
      if (rest.length || typeof sni !== "string") return false;
      link.config!.sni = sni || undefined;
    }),
  },
  "+MQTTCONN": {
    query: (a) => {
      const c = link.config;
      a.print(`+MQTTCONN:0,${link.state},${c?.scheme ?? 0},"${link.host}","${link.port || ""}","${c?.path ?? ""}",${link.reconnect ? 1 : 0}`);
    },
    set: configured(async (a, params) => {
      const [, host, port, reconnect, timeoutMs, ...rest] = params;
      if (rest.length || params.length < 4) return fail(a, Err.parameterCounts);
      if (typeof host !== "string" || !host || host.length > 128 || !isInt(port, 1, 65535) || !isInt(reconnect, 0, 1)) return false;
      const timeout = timeoutParam(timeoutMs);
      if (timeout === undefined) return false;
      if (link.connected) return fail(a, Err.alreadyConnected);
      const c = link.config!;
      if (needsCa(c.scheme) && !link.deps.certificates.mqttCa) return fail(a, Err.tlsConfig);
      if (needsPki(c.scheme) && !link.deps.certificates.mqttPki) return fail(a, Err.tlsConfig);
      if (!link.deps.online()) return fail(a, Err.clientStart);
      link.host = host;
      link.port = port;
      link.reconnect = reconnect === 1;
      try {
        await link.connect(timeout);
      } catch {
        link.state = State.disconnected;
        return fail(a, Err.clientStart);
      }
    }),
  },
  "+MQTTPUB": {
    set: configured(async (a, params) => {
      const [, topic, data, qos, retain, timeoutMs, ...rest] = params;
      if (rest.length || params.length < 5) return fail(a, Err.parameterCounts);
      if (typeof topic !== "string" || !topic || topic.length > 128 || typeof data !== "string") return false;
      if (!isInt(qos, 0, 2)) return fail(a, Err.qos);
      if (!isInt(retain, 0, 1)) return false;
      const timeout = timeoutParam(timeoutMs);
      if (timeout === undefined) return false;
      if (!link.client?.connected) return fail(a, Err.disconnected);
      try {
        await link.client.publish(topic, encodeLatin1(data), qos as QoS, retain === 1, timeout);
      } catch {
        return fail(a, Err.publish);
      }
    }),
  },
  "+MQTTPUBRAW": {
    set: configured(async (a, params) => {
      const [, topic, length, qos, retain, timeoutMs, ...rest] = params;
      if (rest.length || params.length < 5) return fail(a, Err.parameterCounts);
      if (typeof topic !== "string" || !topic || topic.length > 128 || !isInt(length, 1, 1 << 20)) return false;
      if (!isInt(qos, 0, 2)) return fail(a, Err.qos);
      if (!isInt(retain, 0, 1)) return false;
      const timeout = timeoutParam(timeoutMs);
      if (timeout === undefined) return false;
      if (!link.client?.connected) return fail(a, Err.disconnected);
      const data = await a.payload(length);
      if (!data) {
        a.send("\r\n+MQTTPUB:FAIL\r\n");
        return REPLIED;
      }
      try {
        if (!link.client?.connected) throw new Error("disconnected");
        await link.client.publish(topic, data, qos as QoS, retain === 1, timeout);
        a.send("\r\n+MQTTPUB:OK\r\n");
      } catch {
        a.send("\r\n+MQTTPUB:FAIL\r\n");
      }
      return REPLIED;
    }),
  },
  "+MQTTSUB": {
    query: (a) => {
      for (const [topic, qos] of link.topics) a.print(`+MQTTSUB:0,${link.state},"${topic}",${qos}`);
    },
    set: configured(async (a, params) => {
      const [, topic, qos, timeoutMs, ...rest] = params;
      if (rest.length || params.length < 3) return fail(a, Err.parameterCounts);
      if (typeof topic !== "string" || !topic || topic.length > 128) return false;
      if (!isInt(qos, 0, 2)) return fail(a, Err.qos);
      const timeout = timeoutParam(timeoutMs);
      if (timeout === undefined) return false;
      if (!link.client?.connected) return fail(a, Err.disconnected);
      if (link.topics.has(topic)) {
        a.print("ALREADY SUBSCRIBE");
        return;
      }
      if (link.topics.size >= MAX_TOPICS) return fail(a, Err.subscribe);
      try {
        await link.client.subscribe(topic, qos as QoS, timeout);
      } catch {
        return fail(a, Err.subscribe);
      }
      link.topics.set(topic, qos as QoS);
      link.state = State.subscribed;
    }),
  },
  "+MQTTUNSUB": {
    set: configured(async (a, params) => {
      const [, topic, timeoutMs, ...rest] = params;
      if (rest.length || params.length < 2) return fail(a, Err.parameterCounts);
      if (typeof topic !== "string" || !topic || topic.length > 128) return false;
      const timeout = timeoutParam(timeoutMs);
      if (timeout === undefined) return false;
      if (!link.client?.connected) return fail(a, Err.disconnected);
      if (!link.topics.has(topic)) {
        a.print("NO UNSUBSCRIBE");
        return;
      }
      try {
        await link.client.unsubscribe(topic, timeout);
      } catch {
        return fail(a, Err.unsubscribe);
      }
      link.topics.delete(topic);
      if (!link.topics.size) link.state = State.connected;
    }),
  },
  "+MQTTCLEAN": {
    set: (a, [id, ...rest]) => {
      if (rest.length) return fail(a, Err.parameterCounts);
      if (id !== 0) return fail(a, Err.linkId);
      if (link.state === State.uninitialized) return fail(a, Err.uninitiated);
      link.clean();
    },
  },
};

export function mqttCommands(at: AtConsole, deps: MqttDeps): CommandTable {
  link = new MqttLink(at, deps);
  return MQTT_COMMANDS;
}
