// The SSL client settings of ESP-AT's TCP-IP_AT_Commands.rst (AT+CIPSSLCCONF, CIPSSLCSNI,
// CIPSSLCCN, CIPSSLCALPN, CIPSSLCPSK, CIPSSLCPSKHEX) and its TCP-IP_AT_Examples.rst SSL examples,
// against node:tls servers and Debian's `openssl s_server`, with certificates made for the run.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type TlsOptions, type TLSSocket } from "node:tls";
import { until, withConsole } from "../helpers/console.ts";
import { BIND_HOST, PEER_HOST } from "../helpers/target.ts";
import type { UartClient } from "../helpers/uart.ts";

/**
 * A CA, a server certificate it signs (CN xsock-ssl-server, subjectAltName localhost and
 * 127.0.0.1), a client certificate it signs, and a client certificate and a CA it does not know
 * of: EC P-256 keys in PKCS#8, as Moddable's TLS reads them. `dir` holds them as files.
 */
function makeCertificates(): Record<"ca" | "otherCa" | "server" | "serverKey" | "client" | "clientKey" | "rogue" | "rogueKey" | "dir", string> {
  const dir = mkdtempSync(join(tmpdir(), "xsock-ssl-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    openssl("req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=xsock-test-ca", "-days", "2");
    openssl("req", "-x509", ...newKey, "-keyout", "other.key", "-out", "other.pem", "-subj", "/CN=xsock-other-ca", "-days", "2");
    openssl("req", "-x509", ...newKey, "-keyout", "rogue.key", "-out", "rogue.pem", "-subj", "/CN=xsock-rogue-client", "-days", "2");
    const signed = (name: string, subject: string, extensions: string) => {
      writeFileSync(at(`${name}.ext`), extensions);
      openssl("req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    };
    signed("server", "/CN=xsock-ssl-server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    signed("client", "/CN=xsock-ssl-client", "extendedKeyUsage=clientAuth\n");
    const read = (name: string) => readFileSync(at(name), "utf8");
    return {
      ca: read("ca.pem"),
      otherCa: read("other.pem"),
      server: read("server.pem"),
      serverKey: read("server.key"),
      client: read("client.pem"),
      clientKey: read("client.key"),
      rogue: read("rogue.pem"),
      rogueKey: read("rogue.key"),
      dir,
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A node:tls server with the run's server certificate; each connection echoes, after `onConnection` has seen it. */
async function tlsServer(options: TlsOptions, onConnection: (c: TLSSocket) => void = () => {}): Promise<{ server: Server; port: number; seen: TLSSocket[] }> {
  const seen: TLSSocket[] = [];
  // The chain, with its CA: Moddable's TLS checks the name only in a certificate that comes with its issuer.
  const server = createServer({ cert: certs.server + certs.ca, key: certs.serverKey, ...options }, (c) => {
    c.on("error", () => {});
    seen.push(c);
    onConnection(c);
    c.pipe(c);
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, BIND_HOST, () => r()));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** `openssl s_server` on a port of the OS's: what it prints, and its stdin (sent to the client). */
async function opensslServer(...args: string[]): Promise<{ port: number; out: () => string; proc: ChildProcessWithoutNullStreams }> {
  const proc = spawn("openssl", ["s_server", "-accept", `${BIND_HOST}:0`, "-cert", "server.pem", "-key", "server.key", "-cert_chain", "ca.pem", ...args], { cwd: certs.dir });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString("latin1")));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
  await until(() => /ACCEPT \S+:\d+/.test(out), "openssl s_server's ACCEPT", 10000);
  const port = Number(/ACCEPT \S+:(\d+)/.exec(out)![1]);
  return { port, out: () => out, proc };
}

const certs = makeCertificates();

describe("ESP-AT TCP-IP AT commands: SSL client settings", function () {
  this.timeout(30000);
  // CA 0 signed the server's certificate, CA 1 did not; PKI 0 is a client certificate CA 0 signed, PKI 1 one it did not.
  const session = withConsole({
    sim: { config: { ca: [certs.ca, certs.otherCa], clientCert: [certs.client, certs.rogue], clientKey: [certs.clientKey, certs.rogueKey] } },
  });
  let uart: UartClient;
  beforeEach(() => void ({ uart } = session));
  after(() => rmSync(certs.dir, { recursive: true, force: true }));

  /** CIPSEND on a link, and the peer's echo back as +IPD. */
  const echo = async (prefix: string, data: string) => {
    await uart.write(`AT+CIPSEND=${prefix}${data.length}\r\n`);
    assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
    await uart.write(data);
    assert.equal(await uart.expect("SEND OK\r\n"), `\r\nRecv ${data.length} bytes\r\n\r\nSEND OK\r\n`);
    assert.equal(await uart.expect(data), `\r\n+IPD,${prefix}${data.length}:${data}`);
  };

  it("AT+CIPSSLCSNI: the server sees the SNI set for the link id, the others send none for an address", async () => {
    const peer = await tlsServer({});
    try {
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCSNI?"), "\r\nOK\r\n", "no SNI is set at boot");
      assert.equal(await uart.command('AT+CIPSSLCSNI=0,"sni.example.com"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCSNI?"), '+CIPSSLCSNI:0,"sni.example.com"\r\n\r\nOK\r\n');
      assert.equal(await uart.command(`AT+CIPSTART=0,"SSL","${PEER_HOST}",${peer.port}`), "0,CONNECT\r\n\r\nOK\r\n");
      await until(() => peer.seen.length === 1, "the connection at the server");
      assert.equal(peer.seen[0]!.servername, "sni.example.com");
      await echo("0,", "test");
      assert.equal(await uart.command(`AT+CIPSTART=1,"SSL","${PEER_HOST}",${peer.port}`), "1,CONNECT\r\n\r\nOK\r\n");
      await until(() => peer.seen.length === 2, "the second connection");
      assert.equal(peer.seen[1]!.servername, false, "no SNI for an IP address");
      // Link id 5 (max) sets every one.
      assert.equal(await uart.command('AT+CIPSSLCSNI=5,"all.example.com"'), "\r\nOK\r\n");
      assert.equal(
        await uart.command("AT+CIPSSLCSNI?"),
        [0, 1, 2, 3, 4].map((id) => `+CIPSSLCSNI:${id},"all.example.com"\r\n`).join("") + "\r\nOK\r\n",
      );
      assert.equal(await uart.command(`AT+CIPSTART=2,"SSL","${PEER_HOST}",${peer.port}`), "2,CONNECT\r\n\r\nOK\r\n");
      await until(() => peer.seen.length === 3, "the third connection");
      assert.equal(peer.seen[2]!.servername, "all.example.com");
    } finally {
      peer.server.close();
    }
  });

  it("AT+CIPSSLCALPN: the server sees the protocols offered, in order, and picks one", async () => {
    const offered: string[][] = [];
    const peer = await tlsServer({
      ALPNCallback: ({ protocols }) => {
        offered.push(protocols);
        return protocols.includes("mqtt") ? "mqtt" : undefined;
      },
    });
    try {
      assert.equal(await uart.command("AT+CIPSSLCALPN?"), "+CIPSSLCALPN:0\r\n\r\nOK\r\n");
      assert.equal(await uart.command('AT+CIPSSLCALPN=2,"h2","mqtt"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCALPN?"), '+CIPSSLCALPN:0,"h2","mqtt"\r\n\r\nOK\r\n');
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "CONNECT\r\n\r\nOK\r\n");
      await until(() => peer.seen.length === 1, "the connection at the server");
      assert.deepEqual(offered, [["h2", "mqtt"]]);
      assert.equal(peer.seen[0]!.alpnProtocol, "mqtt");
      await echo("", "test");
      assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
      // 0 clears them: no ALPN extension at all.
      assert.equal(await uart.command("AT+CIPSSLCALPN=0"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCALPN?"), "+CIPSSLCALPN:0\r\n\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "CONNECT\r\n\r\nOK\r\n");
      await until(() => peer.seen.length === 2, "the second connection");
      assert.deepEqual(offered, [["h2", "mqtt"]], "no ALPN offered the second time");
      assert.equal(peer.seen[1]!.alpnProtocol, false);
    } finally {
      peer.server.close();
    }
  });

  it("AT+CIPSSLCCN: with auth mode 2 the server's certificate must carry the common name set (ERROR otherwise)", async () => {
    const peer = await tlsServer({});
    try {
      assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCN?"), "\r\nOK\r\n", "none is set at boot");
      assert.equal(await uart.command('AT+CIPSSLCCN="wrong.example.com"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCN?"), '+CIPSSLCCN:0,"wrong.example.com"\r\n\r\nOK\r\n');
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "\r\nERROR\r\n", "the certificate is for localhost and 127.0.0.1");
      // The subject's CN is not enough: the name must be in its subjectAltName, as mbedTLS and Moddable check.
      assert.equal(await uart.command('AT+CIPSSLCCN="xsock-ssl-server"'), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "\r\nERROR\r\n");
      assert.equal(await uart.command('AT+CIPSSLCCN="localhost"'), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "CONNECT\r\n\r\nOK\r\n");
      await echo("", "test");
      assert.equal(await uart.command("AT+CIPSTATUS"), `STATUS:3\r\n+CIPSTATUS:0,"SSL","${PEER_HOST}",${peer.port},0,0\r\n\r\nOK\r\n`);
    } finally {
      peer.server.close();
    }
  });

  it("AT+CIPSSLCSNI with auth mode 2: a wrong SNI fails the check (ERROR), and mode 0 does not check it", async () => {
    const peer = await tlsServer({});
    try {
      assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), "\r\nOK\r\n");
      assert.equal(await uart.command('AT+CIPSSLCSNI="wrong.example.com"'), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "\r\nERROR\r\n");
      assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:2\r\n\r\nOK\r\n", "no link is open");
      assert.equal(await uart.command("AT+CIPSSLCCONF=0"), "\r\nOK\r\n");
      const before = peer.seen.length; // node:tls checks after its handshake: the refused link may have got this far
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "CONNECT\r\n\r\nOK\r\n");
      await until(() => peer.seen.length === before + 1, "the connection at the server");
      assert.equal(peer.seen[before]!.servername, "wrong.example.com");
    } finally {
      peer.server.close();
    }
  });

  it("AT+CIPSSLCCONF auth mode 2: a server that a CA not configured signed fails with ERROR", async () => {
    const peer = await tlsServer({});
    try {
      assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "\r\nERROR\r\n", "CA 1 did not sign it");
      assert.equal(await uart.command("AT+CIPSSLCCONF=2,0,0"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${peer.port}`), "CONNECT\r\n\r\nOK\r\n");
      await echo("", "test");
    } finally {
      peer.server.close();
    }
  });

  it("ESP32 as an SSL client to create a single connection with mutual authentication (AT+CIPSSLCCONF=3,0,0): openssl s_server -Verify 1 checks the client certificate", async () => {
    const server = await opensslServer("-CAfile", "ca.pem", "-Verify", "1", "-verify_return_error");
    try {
      assert.equal(await uart.command("AT+CIPSSLCCONF=3,0,0"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,3,0,0\r\n\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${server.port}`), "CONNECT\r\n\r\nOK\r\n");
      await until(() => server.out().includes("subject=CN = xsock-ssl-client"), "the client certificate at s_server");
      await uart.write("AT+CIPSEND=4\r\n");
      assert.equal(await uart.expect(">"), "\r\nOK\r\n\r\n>");
      await uart.write("test");
      assert.equal(await uart.expect("SEND OK\r\n"), "\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
      await until(() => server.out().endsWith("test"), "test at s_server");
      server.proc.stdin.write("tset");
      assert.equal(await uart.expect("tset"), "\r\n+IPD,4:tset");
      assert.equal(await uart.command("AT+CIPCLOSE"), "CLOSED\r\n\r\nOK\r\n");
    } finally {
      server.proc.kill();
    }
  });

  it("AT+CIPSSLCCONF auth modes 1 and 3: a client certificate the server's CA did not sign, or none, fails with ERROR", async () => {
    const server = await opensslServer("-CAfile", "ca.pem", "-Verify", "1", "-verify_return_error");
    try {
      assert.equal(await uart.command("AT+CIPSSLCCONF=1,1"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${server.port}`), "\r\nERROR\r\n");
      await until(() => /verify error|certificate verify failed|unknown ca/i.test(server.out()), "s_server's refusal");
      assert.equal(await uart.command("AT+CIPSSLCCONF=3,1,0"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${server.port}`), "\r\nERROR\r\n");
      assert.equal(await uart.command("AT+CIPSSLCCONF=0"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${server.port}`), "\r\nERROR\r\n", "no certificate at all");
      assert.equal(await uart.command("AT+CIPSTATUS"), "STATUS:2\r\n\r\nOK\r\n");
      // The client certificate CA 0 signed gets in.
      assert.equal(await uart.command("AT+CIPSSLCCONF=1,0"), "\r\nOK\r\n");
      assert.equal(await uart.command(`AT+CIPSTART="SSL","${PEER_HOST}",${server.port}`), "CONNECT\r\n\r\nOK\r\n");
    } finally {
      server.proc.kill();
    }
  });

  it("AT+CIPSSLCCONF notes: the setting is saved in flash (with AT+SYSSTORE=1) and outlives AT+RST; the other settings do not", async () => {
    const restart = async () => {
      assert.equal(await uart.command("AT+RST"), "\r\nOK\r\n");
      await uart.expect("\r\nready\r\n");
      assert.equal(await uart.command("ATE0"), "ATE0\r\n\r\nOK\r\n");
    };
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCCONF=5,3,1,0"), "\r\nOK\r\n", "link id 5: every one");
    assert.equal(await uart.command('AT+CIPSSLCSNI=0,"sni.example.com"'), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+SYSSTORE=0"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCCONF=2,2,0,1"), "\r\nOK\r\n", "not saved");
    assert.equal(await uart.command("AT+CIPSSLCCONF?"), [3, 3, 2, 3, 3].map((mode, id) => `+CIPSSLCCONF:${id},${mode},${mode === 2 ? "0,1" : "1,0"}\r\n`).join("") + "\r\nOK\r\n");
    await restart();
    // CIPMUX=0 after a restart: link 0 only.
    assert.equal(await uart.command("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,3,1,0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCCONF?"), [0, 1, 2, 3, 4].map((id) => `+CIPSSLCCONF:${id},3,1,0\r\n`).join("") + "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCSNI?"), "\r\nOK\r\n");
  });

  it("AT+CIPSSLCPSK and AT+CIPSSLCPSKHEX: kept and reported per link id; a link with a PSK gets ERROR", async () => {
    const peer = await tlsServer({});
    try {
      assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCPSK?"), "\r\nOK\r\n");
      assert.equal(await uart.command('AT+CIPSSLCPSK=0,"psk","myhint"'), "\r\nOK\r\n");
      assert.equal(await uart.command('AT+CIPSSLCPSKHEX=1,"70736b00","myhint"'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCPSK?"), '+CIPSSLCPSK:0,"psk","myhint"\r\n+CIPSSLCPSK:1,"psk\0","myhint"\r\n\r\nOK\r\n');
      assert.equal(await uart.command("AT+CIPSSLCPSKHEX?"), '+CIPSSLCPSKHEX:0,"70736b","myhint"\r\n+CIPSSLCPSKHEX:1,"70736b00","myhint"\r\n\r\nOK\r\n');
      assert.equal(await uart.command(`AT+CIPSTART=0,"SSL","${PEER_HOST}",${peer.port}`), "\r\nERROR\r\n", "Moddable's TLS has no PSK cipher suite");
      assert.equal(await uart.command(`AT+CIPSTART=2,"SSL","${PEER_HOST}",${peer.port}`), "2,CONNECT\r\n\r\nOK\r\n", "link 2 has no PSK");
      // An empty PSK clears it.
      assert.equal(await uart.command('AT+CIPSSLCPSK=0,"",""'), "\r\nOK\r\n");
      assert.equal(await uart.command("AT+CIPSSLCPSK?"), '+CIPSSLCPSK:1,"psk\0","myhint"\r\n\r\nOK\r\n');
      assert.equal(await uart.command(`AT+CIPSTART=0,"SSL","${PEER_HOST}",${peer.port}`), "0,CONNECT\r\n\r\nOK\r\n");
    } finally {
      peer.server.close();
    }
  });

  it("ESP32 as an SSL server in multiple connections (AT+CIPSERVER=1,8070,\"SSL\"): ERROR, as Moddable's TLS has no server side, and no server runs", async () => {
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    assert.equal(await uart.command('AT+CIPSERVER=1,8070,"SSL"'), "\r\nERROR\r\n");
    assert.equal(await uart.command('AT+CIPSERVER=1,8070,"SSL",1'), "\r\nERROR\r\n");
    assert.equal(await uart.command("AT+CIPSERVER?"), "+CIPSERVER:0\r\n\r\nOK\r\n");
  });

  it("answers ERROR to malformed settings, names nothing configured, and changes nothing", async () => {
    assert.equal(await uart.command("AT+CIPSSLCCONF=1,2"), "\r\nERROR\r\n", "no PKI 2");
    assert.equal(await uart.command("AT+CIPSSLCCONF=3,0,2"), "\r\nERROR\r\n", "no CA 2");
    for (const line of [
      'AT+CIPSSLCSNI=""',
      "AT+CIPSSLCSNI=5",
      'AT+CIPSSLCSNI="a","b"',
      'AT+CIPSSLCSNI=0,"a"',
      'AT+CIPSSLCCN=""',
      'AT+CIPSSLCCN="a",1',
      'AT+CIPSSLCALPN=1',
      'AT+CIPSSLCALPN=1,"a","b"',
      'AT+CIPSSLCALPN=6,"a","b","c","d","e","f"',
      'AT+CIPSSLCALPN=1,""',
      'AT+CIPSSLCALPN=1,7',
      `AT+CIPSSLCPSK="${"k".repeat(33)}","hint"`,
      `AT+CIPSSLCPSK="psk","${"h".repeat(33)}"`,
      'AT+CIPSSLCPSK="psk"',
      'AT+CIPSSLCPSKHEX="7073a","hint"',
      'AT+CIPSSLCPSKHEX="zz","hint"',
      `AT+CIPSSLCPSKHEX="${"00".repeat(33)}","hint"`,
    ])
      assert.equal(await uart.command(line), "\r\nERROR\r\n", line);
    assert.equal(await uart.command("AT+CIPSSLCCONF?"), "+CIPSSLCCONF:0,0,0,0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCSNI?"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCCN?"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCALPN?"), "+CIPSSLCALPN:0\r\n\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPSSLCPSK?"), "\r\nOK\r\n");
    assert.equal(await uart.command("AT+CIPMUX=1"), "\r\nOK\r\n");
    for (const line of ['AT+CIPSSLCSNI=6,"a"', 'AT+CIPSSLCSNI="a"', "AT+CIPSSLCALPN=0", "AT+CIPSSLCCONF=-1,0"])
      assert.equal(await uart.command(line), "\r\nERROR\r\n", line);
  });
});
