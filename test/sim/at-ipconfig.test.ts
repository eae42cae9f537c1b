// The console's address commands applied to the board's interface, over the pty: AT+CIPSTA (a
// static address, and CWDHCP?'s station bit), AT+CWDHCP, AT+CIPDNS (with a DNS server of the
// test's own), AT+CWHOSTNAME (seen in `xsock sim --json`) and AT+CEHOSTNAME, AT+CIFSR on Wi-Fi and Ethernet
// boards, AT+CIPETH's gateway and netmask, and what flash keeps over AT+RST.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { createInterface } from "node:readline";
import { startSim, type SimBoard } from "xsock/sim";
import { JOINED } from "../helpers/console.ts";
import { dnsResponder, type DnsResponder } from "../helpers/dns.ts";
import { freePort, runAddress } from "../helpers/ports.ts";
import { ROOT, XSOCK } from "../helpers/sim.ts";
import { UartClient } from "../helpers/uart.ts";

const JOIN = 'AT+CWJAP="xsock-sim",""';
const cipsta = (ip: string, gateway: string, netmask: string) =>
  `+CIPSTA:ip:"${ip}"\r\n+CIPSTA:gateway:"${gateway}"\r\n+CIPSTA:netmask:"${netmask}"\r\n\r\nOK\r\n`;
const ETH_UP = "+ETH_CONNECTED\r\n+ETH_GOT_IP:127.0.0.1\r\n";

describe("console address commands (CIPSTA, CWDHCP, CIPDNS, CWHOSTNAME, CEHOSTNAME, CIFSR)", function () {
  this.timeout(30000);
  let sim: SimBoard;
  let uart: UartClient;

  async function boot(options: Parameters<typeof startSim>[0] = {}, ready = "\r\nready\r\n"): Promise<void> {
    sim = await startSim({ ...options, uart: "pty" });
    uart = await UartClient.open(sim.uart.path);
    await uart.expect(ready);
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
  }

  /** AT+RST, then the boot's `ready` (and what follows it, `then`). */
  async function restart(then = ""): Promise<void> {
    assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
    await uart.expect(`ready\r\n${then}`, 10000);
    assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
  }

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && sim) console.log(`--- simulator log ---\n${sim.log.slice(-3000)}`);
    await uart?.close();
    await sim?.stop();
  });

  describe("on a Wi-Fi board", () => {
    beforeEach(() => boot());

    it("takes a static address with CIPSTA=, clears CWDHCP?'s station bit, and serves on it; CWDHCP=1,1 brings DHCP back", async () => {
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:3\r\n\r\nOK\r\n");
      assert.equal(await uart.command('AT+CIPSTA="127.0.0.9","127.0.0.254","255.255.0.0"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:2\r\n\r\nOK\r\n", "a static address turns the station's DHCP off");
      assert.equal(await uart.command("AT+CIPSTA?"), cipsta("127.0.0.9", "127.0.0.254", "255.255.0.0"), "set before the join, it shows");
      assert.equal(await uart.command(JOIN), JOINED);
      assert.equal(await uart.command("AT+CIPSTA?"), cipsta("127.0.0.9", "127.0.0.254", "255.255.0.0"), "the driver's address, gateway and netmask");
      assert.equal(await uart.command("AT+CIFSR"), '+CIFSR:STAIP,"127.0.0.9"\r\n+CIFSR:STAMAC,"24:0a:c4:00:00:01"\r\n\r\nOK\r\n');
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      const port = await freePort(["127.0.0.9"]);
      assert.equal(await uart.command(`AT+CIPSERVER=1,${port}`), "\r\nOK\r\n");
      const client = createConnection({ host: "127.0.0.9", port });
      assert.equal(await uart.expect("0,CONNECT\r\n"), "0,CONNECT\r\n", "the server listens on the static address");
      client.destroy();
      await uart.expect("0,CLOSED\r\n");

      assert.equal(await uart.command("AT+CWDHCP=1,1"), "\r\nOK\r\n");
      assert.equal(await uart.expect("WIFI GOT IP\r\n"), "WIFI GOT IP\r\n", "DHCP leases an address again");
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:3\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSTA?"), cipsta("127.0.0.1", "127.0.0.1", "255.255.255.0"), "the simulator's lease: its /24 and .1");
      assert.equal(await uart.command("AT+CWDHCP=1,1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSTA_CUR?"), cipsta("127.0.0.1", "127.0.0.1", "255.255.255.0").replace(/CIPSTA/g, "CIPSTA_CUR"), "DHCP on twice: the lease stays");
    });

    it("answers ERROR to malformed address, DHCP, DNS and hostname commands, and changes nothing", async () => {
      assert.equal(await uart.command(JOIN), JOINED);
      for (const bad of [
        'AT+CIPSTA="127.0.0.300"',
        'AT+CIPSTA="127.0.0"',
        'AT+CIPSTA="0.0.0.0"',
        'AT+CIPSTA="127.0.0.09"', // a leading zero: octal to ESP-IDF
        'AT+CIPDNS=1,"010.0.0.1"',
        'AT+CIPSTA="127.0.0.9","127.0.0.1"',
        'AT+CIPSTA="127.0.0.9","127.0.0.1","255.0.255.0"',
        'AT+CIPSTA="127.0.0.9","127.0.0.1","255.255.255.0",1',
        "AT+CIPSTA=127",
        "AT+CWDHCP=2,1",
        "AT+CWDHCP=1,0",
        "AT+CWDHCP=1,4",
        "AT+CWDHCP=1",
        "AT+CWDHCP=1,1,1",
        'AT+CIPDNS=1,"127.0.0.77","127.0.0.77"',
        'AT+CIPDNS=0,"1.1.1.1"',
        "AT+CIPDNS=2",
        'AT+CIPDNS=1,"1.1.1.1","1.0.0.1","8.8.8.8","8.8.4.4"',
        'AT+CIPDNS=1,"dns.example"',
        `AT+CWHOSTNAME="${"a".repeat(33)}"`,
        'AT+CWHOSTNAME=""',
        'AT+CWHOSTNAME="a","b"',
      ])
        assert.equal(await uart.command(bad), "\r\nERROR\r\n", bad);
      assert.equal(await uart.command("AT+CIPSTA?"), cipsta("127.0.0.1", "127.0.0.1", "255.255.255.0"));
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:3\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDNS?"), '+CIPDNS:0,"127.0.0.53"\r\n\r\nOK\r\n');
      assert.equal(await uart.command("AT+CWHOSTNAME?"), "+CWHOSTNAME:espressif\r\n\r\nOK\r\n");
    });

    it("saves CIPSTA, CWDHCP and CIPDNS with SYSSTORE=1 and applies them after AT+RST; not the hostname, nor what SYSSTORE=0 set", async () => {
      assert.equal(await uart.command('AT+CIPSTA="127.0.0.9"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDNS=1"), "\r\nOK\r\n");
      assert.equal(await uart.command('AT+CWHOSTNAME="board-7"'), "\r\nOK\r\n");
      assert.equal(await uart.command(JOIN), JOINED, "saves the AP too");
      await restart("WIFI CONNECTED\r\nWIFI GOT IP\r\n");
      assert.equal(await uart.command("AT+CIPSTA?"), cipsta("127.0.0.9", "127.0.0.1", "255.255.255.0"), "the address alone: its /24 and .1");
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:2\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDNS?"), '+CIPDNS:1,"208.67.222.222","114.114.114.114","8.8.8.8"\r\n\r\nOK\r\n', "ESP-AT's three when none is given");
      assert.equal(await uart.command("AT+CWHOSTNAME?"), "+CWHOSTNAME:espressif\r\n\r\nOK\r\n", "ESP-AT does not save the hostname");

      assert.equal(await uart.command("AT+SYSSTORE=0"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CWDHCP=1,1"), "\r\nOK\r\n");
      assert.equal(await uart.expect("WIFI GOT IP\r\n"), "WIFI GOT IP\r\n");
      assert.equal(await uart.command("AT+CIPSTA?"), cipsta("127.0.0.1", "127.0.0.1", "255.255.255.0"), "DHCP now");
      assert.equal(await uart.command("AT+CIPDNS=0"), "\r\nOK\r\n");
      await restart("WIFI CONNECTED\r\nWIFI GOT IP\r\n");
      assert.equal(await uart.command("AT+CIPSTA?"), cipsta("127.0.0.9", "127.0.0.1", "255.255.255.0"), "flash still has the static address");
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:2\r\n\r\nOK\r\n");
      assert.match(await uart.command("AT+CIPDNS?"), /^\+CIPDNS:1,"208\.67\.222\.222"/);

      // DHCP off with no static address: the station joins and gets no address.
      assert.equal(await uart.command("AT+SYSSTORE=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CWDHCP=1,1"), "\r\nOK\r\n");
      await uart.expect("WIFI GOT IP\r\n");
      assert.equal(await uart.command("AT+CWAUTOCONN=0"), "\r\nOK\r\n");
      await restart();
      assert.equal(await uart.command("AT+CWDHCP=0,1"), "\r\nOK\r\n");
      await restart();
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:2\r\n\r\nOK\r\n");
      // CWJAP waits for an address, as ESP-AT does: with a 3 s timeout it ends in +CWJAP:1.
      assert.match(await uart.command(`${JOIN},,,,,,3`, 10000), /^WIFI CONNECTED\r\n\+CWJAP:1\r\n\r\nERROR\r\n$/, "associated, but no address");
      assert.equal(await uart.expect("WIFI DISCONNECT\r\n"), "WIFI DISCONNECT\r\n", "the join given up");
      assert.equal(await uart.command("AT+CIFSR"), '+CIFSR:STAIP,"0.0.0.0"\r\n+CIFSR:STAMAC,"24:0a:c4:00:00:01"\r\n\r\nOK\r\n');
    });

    it("sets the hostname with CWHOSTNAME, only in station mode", async () => {
      assert.equal(await uart.command("AT+CWHOSTNAME?"), "+CWHOSTNAME:espressif\r\n\r\nOK\r\n");
      assert.equal(await uart.command('AT+CWHOSTNAME="my_test"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CWHOSTNAME?"), "+CWHOSTNAME:my_test\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CWMODE=0"), "\r\nOK\r\n");
      assert.equal(await uart.command('AT+CWHOSTNAME="other"'), "\r\nERROR\r\n", "no station, no hostname");
      assert.equal(await uart.command("AT+CWHOSTNAME?"), "+CWHOSTNAME:my_test\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CEHOSTNAME?"), "\r\nERROR\r\n", "no Ethernet on a Wi-Fi board");
    });
  });

  it("keeps a static address through dhcp-fail: the station joins with it", async () => {
    await boot({ faults: ["dhcp-fail"] });
    assert.equal(await uart.command('AT+CIPSTA="127.0.0.9","127.0.0.1","255.255.255.0"'), "\r\nOK\r\n");
    assert.equal(await uart.command(JOIN), JOINED, "no DHCP needed");
    assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:2\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWDHCP=1,1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:3\r\n\r\nOK\r\n");
  });

  describe("AT+CIPDNS with a DNS server of the test's own", () => {
    // Port 53 is DNS's, fixed: the server's address is this run's own, so that another run's server does not hold it.
    const SERVER = runAddress(77);
    let dns: DnsResponder | undefined;
    before(async function () {
      try {
        dns = await dnsResponder(SERVER, 53, { "board.test": "127.0.0.42" });
      } catch (e) {
        // Port 53 needs root (CI runs as root).
        console.log(`    skipped: cannot serve DNS on ${SERVER}:53 (${(e as Error).message})`);
        this.skip();
      }
    });
    after(() => dns?.close());
    beforeEach(() => boot());

    it("resolves CIPDOMAIN on the servers set, and on DHCP's again after CIPDNS=0", async () => {
      assert.equal(await uart.command(JOIN), JOINED);
      assert.equal(await uart.command(`AT+CIPDNS=1,"${SERVER}"`), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDNS?"), `+CIPDNS:1,"${SERVER}"\r\n\r\nOK\r\n`);
      assert.equal(await uart.command('AT+CIPDOMAIN="board.test"', 10000), '+CIPDOMAIN:"127.0.0.42"\r\n\r\nOK\r\n');
      assert.deepEqual(dns!.asked, ["board.test"], "the board asked the server set");
      assert.equal(await uart.command('AT+CIPDOMAIN="nothing.test"', 10000), "\r\nERROR\r\n", "NXDOMAIN");
      // A new lease does not bring DHCP's servers back over the ones set by hand.
      sim.fault("link-drop", 100);
      await uart.expect("WIFI GOT IP\r\n", 10000);
      assert.equal(await uart.command("AT+CIPDNS?"), `+CIPDNS:1,"${SERVER}"\r\n\r\nOK\r\n`);
      const before = dns!.asked.length;
      assert.equal(await uart.command('AT+CIPDOMAIN="board.test"', 10000), '+CIPDOMAIN:"127.0.0.42"\r\n\r\nOK\r\n');
      assert.equal(dns!.asked.length, before + 1);

      assert.equal(await uart.command("AT+CIPDNS=0"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPDNS?"), '+CIPDNS:0,"127.0.0.53"\r\n\r\nOK\r\n', "DHCP's server again");
      const asked = dns!.asked.length;
      assert.equal(await uart.command('AT+CIPDOMAIN="board.test"', 15000), "\r\nERROR\r\n", "the host's resolver knows no board.test");
      assert.equal(dns!.asked.length, asked, "the test's server was not asked");
      assert.equal(await uart.command('AT+CIPDOMAIN="localhost"'), '+CIPDOMAIN:"127.0.0.1"\r\n\r\nOK\r\n');
    });
  });

  it("reports the hostname set in `xsock sim --json`", async () => {
    const proc = spawn(process.execPath, [XSOCK, "sim", "--json"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const events: Record<string, unknown>[] = [];
    let heard = () => {};
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      events.push(JSON.parse(line) as Record<string, unknown>);
      heard();
    });
    const find = (event: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${event} event in ${JSON.stringify(events)}`)), 10000);
        heard = () => {
          const found = events.find((e) => e.event === event);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        };
        heard();
      });
    const exited = new Promise((resolve) => proc.on("exit", resolve));
    try {
      const { path } = (await find("uart")) as { path: string };
      uart = await UartClient.open(path);
      await uart.expect("ready\r\n");
      assert.equal(await uart.command('AT+CWHOSTNAME="board-7"'), "AT+CWHOSTNAME=\"board-7\"\r\n\r\nOK\r\n");
      assert.deepEqual(await find("hostname"), { event: "hostname", interface: "WIFI_STA_DEF", hostname: "board-7" });
    } finally {
      await uart?.close();
      proc.kill("SIGTERM");
      await exited;
    }
  });

  describe("on an Ethernet board (esp32/wt32_eth01)", () => {
    beforeEach(() => boot({ board: "esp32/wt32_eth01" }, `\r\nready\r\n${ETH_UP}`));

    it("prints +CIFSR:ETHIP and ETHMAC, and CIPETH's real gateway and netmask; CWDHCP's bit 2 is Ethernet's", async () => {
      assert.equal(await uart.command("AT+CIFSR"), '+CIFSR:ETHIP,"127.0.0.1"\r\n+CIFSR:ETHMAC,"24:0a:c4:00:00:04"\r\n\r\nOK\r\n');
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:7\r\n\r\nOK\r\n");
      assert.equal(await uart.command('AT+CIPETH="127.0.0.8","127.0.0.200","255.255.255.128"'), "\r\nOK\r\n");
      await uart.expect("+ETH_GOT_IP:127.0.0.8\r\n");
      assert.equal(await uart.command("AT+CIPETH?"), "+CIPETH:ip:127.0.0.8\r\n+CIPETH:gateway:127.0.0.200\r\n+CIPETH:netmask:255.255.255.128\r\n\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIFSR"), '+CIFSR:ETHIP,"127.0.0.8"\r\n+CIFSR:ETHMAC,"24:0a:c4:00:00:04"\r\n\r\nOK\r\n');
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:3\r\n\r\nOK\r\n", "a static address turns Ethernet's DHCP off");
      assert.equal(await uart.command('AT+CIPSTA="127.0.0.9"'), "\r\nERROR\r\n", "the station has no driver on a wired board");
      await restart("+ETH_CONNECTED\r\n+ETH_GOT_IP:127.0.0.8\r\n");
      assert.equal(await uart.command("AT+CIPETH?"), "+CIPETH:ip:127.0.0.8\r\n+CIPETH:gateway:127.0.0.200\r\n+CIPETH:netmask:255.255.255.128\r\n\r\nOK\r\n", "saved, applied at boot");
      assert.equal(await uart.command("AT+CWDHCP=1,4"), "\r\nOK\r\n");
      await uart.expect("+ETH_GOT_IP:127.0.0.1\r\n");
      assert.equal(await uart.command("AT+CIPETH?"), "+CIPETH:ip:127.0.0.1\r\n+CIPETH:gateway:127.0.0.1\r\n+CIPETH:netmask:255.255.255.0\r\n\r\nOK\r\n", "DHCP's lease");
      assert.equal(await uart.command("AT+CWDHCP?"), "+CWDHCP:7\r\n\r\nOK\r\n");
      assert.equal(await uart.command('AT+CWHOSTNAME="eth-board"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CWHOSTNAME?"), "+CWHOSTNAME:eth-board\r\n\r\nOK\r\n");
      // CEHOSTNAME names Ethernet, the one interface here.
      assert.equal(await uart.command("AT+CEHOSTNAME?"), "+CEHOSTNAME:eth-board\r\n\r\nOK\r\n");
      assert.equal(await uart.command('AT+CEHOSTNAME="eth-2"'), "\r\nOK\r\n");
      for (const bad of ['AT+CEHOSTNAME=""', `AT+CEHOSTNAME="${"e".repeat(33)}"`, "AT+CEHOSTNAME=1", 'AT+CEHOSTNAME="a","b"'])
        assert.equal(await uart.command(bad), "\r\nERROR\r\n", bad);
      assert.equal(await uart.command("AT+CEHOSTNAME?"), "+CEHOSTNAME:eth-2\r\n\r\nOK\r\n");
    });
  });
});
