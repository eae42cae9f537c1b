// Boot: open the console UART named by the board, bring up its network interface (the driver
// the manifest picked for the board) and start the ESP-AT console.
import config from "mc/config";
import Instrumentation from "instrumentation";
import "system"; // Moddable's: it sets the global System, and has no exports
import Timer from "timer";
import { AtConsole, type CommandTable } from "./at/console";
import { basicCommands } from "./at/basic";
import { Links } from "./at/links";
import { parseCas, parseKeys } from "./at/cas";
import { Certificates, sysmfgCommands } from "./at/sysmfg";
import { Settings } from "./at/settings";
import { legacySpellings } from "./at/spellings";
import { tcpipCommands } from "./at/tcpip";
import { sslCommands } from "./at/ssl";
import { ipv6Commands } from "./at/ipv6";
import { sendlCommands } from "./at/sendl";
import { applySavedTcpOptions, tcpoptCommands } from "./at/tcpopt";
import { PassthroughLinks } from "./at/translink";
import { applySavedMacs, macCommands } from "./at/macs";
import { connPersistCommands } from "./at/connpersist";
import { Station, wifiCommands } from "./at/wifi";
import { SoftApConsole, softApCommands } from "./at/softap";
import { ethernetCommands, startEthernet } from "./at/ethernet";
import { applySavedIpConfig, ipconfigCommands } from "./at/ipconfig";
import { canCommands } from "./at/can";
import { mqttCommands } from "./at/mqtt";
import { httpCommands } from "./at/http";
import { sntpCommands } from "./at/sntp";
import { mdnsCommands } from "./at/mdns";
import { msgFilterCommands } from "./at/msgfilter";
import { sleepCommands } from "./at/sleep";
import { reconnCfgCommands } from "./at/cwreconncfg";
import { countryCommands } from "./at/cwcountry";
import { otaCommands } from "./at/ota";
import { canInterfaces } from "xsock/can";
import { Uart, consoleConfig } from "xsock/uart";
import { XSOCK_VERSION } from "./version";
import NetworkInterface from "xsock/netif";
import DeepSleep from "xsock/deepsleep-native";

type Limits = { links?: number; xs?: { heap: number; chunk: number } };
const board = (config.board ?? { id: "esp32/nodemcu", chip: "ESP32" }) as { id: string; chip: string };
const limits = (config.limits ?? {}) as Limits;
const maxLinks = Number(limits.links ?? 5);
/** XS's heap on the board, in bytes: 16-byte slots and the chunk heap (Moddable's ESP32 sizes by default). */
const xsHeap = (limits.xs?.heap ?? 4928) * 16 + (limits.xs?.chunk ?? 78848);

const settings = new Settings();
const boardUart = consoleConfig(config);
const consoleUart = { ...boardUart, baud: settings.get("uartbaud", boardUart.baud) }; // AT+UART_DEF

const clock = {
  now: () => Date.now(),
  after: (ms: number, fn: () => void) => {
    let fired = false;
    const timer = Timer.set(() => {
      fired = true;
      fn();
    }, ms);
    return () => void (fired || Timer.clear(timer));
  },
};
const figure = (name: "XS Slot Heap Used" | "XS Chunk Heap Used") => {
  const id = Instrumentation.map(name);
  return (id === undefined ? undefined : Instrumentation.get(id)) ?? 0;
};

const freeHeap = () => xsHeap - figure("XS Slot Heap Used") - figure("XS Chunk Heap Used");

const commands: CommandTable = {};
const at = new AtConsole((bytes) => uart.write(bytes), commands, clock);
const uart = new Uart(consoleUart, (bytes) => at.input(bytes), () => at.overrun());
const netif = new NetworkInterface();
const station = new Station(at, settings, netif);
const softAp = new SoftApConsole(at, settings, netif);
const wired = netif.kind === "ethernet";
const ipconfig = { netif, settings, station, softAp: () => netif.wifi?.softAp, softApServer: (on: boolean) => softAp.serveDhcp(on), ipv6: () => links.ipv6 };
// The build's CAs and client certificates, under what AT+SYSMFG wrote to flash.
const certificates = new Certificates({ cas: parseCas(config.ca), certs: parseCas(config.clientCert), keys: parseKeys(config.clientKey) });
const links = new Links(at, maxLinks, uart, certificates.cas, clock, certificates.pki);
const online = () => netif.address !== undefined;
const passthroughLinks = new PassthroughLinks(at, links, settings, clock, online);
applySavedTcpOptions(links, settings);
const can = canInterfaces().get("can0");
/** AT+GSLP: once the OK has gone out, deep sleep (a restart for 0); lin has neither. */
const deepSleep = (ms: number) => {
  if (typeof System.restart !== "function") return false;
  Timer.set(() => void uart.drained().then(() => (ms ? new DeepSleep({ ms }) : System.restart())), 0);
  return true;
};
/** AT+RST, and a firmware update's end: once the OK has gone out (queued a turn later); lin's System has no restart. */
const restart = () => {
  if (typeof System.restart !== "function") return false;
  Timer.set(() => void uart.drained().then(() => System.restart()), 0);
  return true;
};
/** The firmware's version (AT+GMR), when the build's config names one. */
const version = config.version === undefined ? undefined : String(config.version);
/** SLCAN's V and N replies: hardware 01 and firmware <major><minor>; the MAC's last 4 digits. */
const [major, minor] = XSOCK_VERSION.split(".");
const slcan = { version: `01${major}${minor}`.slice(0, 4), serial: netif.mac.replace(/:/g, "").slice(-4).toUpperCase().padStart(4, "0") };
Object.assign(
  commands,
  basicCommands({ chip: board.chip, board: board.id, version }, {
    restart, // AT+RST gets ERROR on lin

    freeHeap,
    heapSize: xsHeap,
    get baud() {
      return uart.baud;
    },
    defaultBaud: boardUart.baud,
    // Input waits from now, as ESP-AT reads nothing between the OK and the change; the change
    // waits for the OK (queued once this returns) to go out.
    setBaud: (baud) => void uart.setBaud(baud),
  }, settings, commands),
  wifiCommands(station, settings, softAp),
  softApCommands(softAp, settings),
  ipconfigCommands(ipconfig),
  // Links need an address: the station's, or the SoftAP's while it runs (its phones reach the board there).
  tcpipCommands(links, () => netif.address !== undefined || netif.wifi?.softAp !== undefined, settings, () => netif.address !== undefined),
  sslCommands(links, settings),
  ipv6Commands(links, settings),
  sendlCommands(links, uart, clock),
  tcpoptCommands(links, settings),
  connPersistCommands(links, netif, clock),
  passthroughLinks.commands(),
  macCommands(netif, settings, () => softAp.mac),
  wired ? ethernetCommands(netif, settings) : {},
  mqttCommands(at, { clock, online: () => netif.address !== undefined, certificates }),
  sysmfgCommands(certificates),
  httpCommands({ at, uart, online, freeHeap, cas: links.cas, pki: links.pki }),
  sntpCommands({ at, netif, clock }),
  mdnsCommands(netif),
  msgFilterCommands(at),
  sleepCommands({ wifiMode: () => station.mode, deepSleep }),
  reconnCfgCommands(station, settings),
  countryCommands(),
  // The OTA server AT+CIUPDATE and AT+CIPFWVER ask, from the build's config (docs/console.md).
  otaCommands({ at, restart, server: config.otaServer as string | undefined, sslServer: config.otaSslServer as string | undefined, token: String(config.otaToken ?? "") }),
  can
    ? canCommands(at, can, {
        clock,
        uartBacklog: () => uart.backlog,
        idle: () => links.count === 0 && !links.serving,
        slcan,
      })
    : {},
);
Object.assign(commands, legacySpellings(commands, settings, ["+CWMODE", "+CIPSTA", "+CIPSTAMAC", "+CIPAP", "+CIPAPMAC", "+CWDHCP", "+CWDHCPS", "+SYSMSG", "+CWSAP"]));
at.ready();
applySavedIpConfig(ipconfig);
if (wired) startEthernet(at, netif);
softAp.follow(station.mode);
if (!wired) applySavedMacs(netif, settings);
station.boot();
passthroughLinks.boot(); // AT+SAVETRANSLINK: into passthrough at power-up
