"""One console session, typed over a serial port the way a host MCU would, for comparing two
engines byte for byte: `xsock sim` (test/sim/transcript.test.ts) and the firmware on Moddable's
own lin runtime (mcsim, by hand: see docs/moddable-fidelity.md).

usage: session.py <tty>
Prints the transcript: each command, then what came back up to its final reply. The TCP peer is
a server on a loopback port the OS picks; its port is printed as <port>.
"""
import re
import socket
import sys
import threading
import time

import serial

FINAL = re.compile(rb"\r\n(OK|ERROR|SEND OK|SEND FAIL)\r\n$|^\r\nready\r\n$|>$")


class Peer:
    """A TCP server on loopback: it says hello once the board connects, and keeps what it gets."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.got = b""
        self.conn = None
        self.ready = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.conn, _ = self.server.accept()
        self.ready.set()
        while True:
            data = self.conn.recv(4096)
            if not data:
                break
            self.got += data


class Console:
    def __init__(self, path):
        self.port = serial.Serial(path, 115200, timeout=0.05)
        self.out = []

    def read_until(self, done, timeout=10.0):
        """Bytes up to and including what `done` matches, or all that came in `timeout` seconds."""
        data = b""
        end = time.time() + timeout
        while time.time() < end:
            data += self.port.read(4096)
            if done(data):
                return data
        return data

    def log(self, sent, got, peer=None):
        text = got.decode("latin-1")
        if peer:
            text = text.replace(str(peer.port), "<port>")
        self.out.append(f"> {sent}\n{text!r}\n")

    def command(self, line, peer=None, until=FINAL):
        self.port.write(line.encode() + b"\r\n")
        got = self.read_until(lambda d: until.search(d) is not None)
        self.log(line.replace(str(peer.port), "<port>") if peer else line, got, peer)
        return got

    def lines(self, pattern, sent, timeout=10.0):
        got = self.read_until(lambda d: re.search(pattern, d) is not None, timeout)
        self.log(sent, got)
        return got


def send(c, peer, data, label, total):
    """Writes `data`, logs what came back up to SEND OK, then what the peer has once it has `total`."""
    c.port.write(data)
    got = c.read_until(lambda d: d.endswith(b"SEND OK\r\n"))
    c.log(label, got)
    deadline = time.time() + 10
    while peer.got != total and time.time() < deadline:
        time.sleep(0.01)
    c.out.append(f"peer got {peer.got!r}\n")


def main():
    c = Console(sys.argv[1])
    try:
        session(c)
    finally:
        sys.stdout.write("".join(c.out))


def session(c):
    c.lines(rb"\r\nready\r\n", "(boot)", 20.0)
    c.command("AT")
    c.command("ATE0")
    c.command("AT+GMR")
    c.command("AT+CMD?")
    c.command("AT+CWMODE=1")
    c.command('AT+CWJAP="xsock-sim",""', until=re.compile(rb"\r\n(OK|ERROR)\r\n$"))
    peer = Peer()
    c.command(f'AT+CIPSTART="TCP","127.0.0.1",{peer.port}', peer)
    if not peer.ready.wait(10):
        raise SystemExit("the board did not connect to the peer")
    c.command("AT+CIPSEND=5", until=re.compile(rb">$"))
    send(c, peer, b"hello", "hello", b"hello")
    # Data sent with its command, before the prompt, as a host that does not wait for `>` does.
    send(c, peer, b"AT+CIPSEND=4\r\nmore", "AT+CIPSEND=4 and more, in one write", b"hellomore")
    peer.conn.sendall(b"world")
    c.lines(rb"\+IPD,5:world", "(peer sends world)")
    c.command("AT+CIPRECVMODE=1")
    peer.conn.sendall(b"passive")
    c.lines(rb"\+IPD,7\r\n", "(peer sends passive)")
    c.command("AT+CIPRECVLEN?")
    c.command("AT+CIPRECVDATA=7")
    c.command("AT+CIPCLOSE", until=re.compile(rb"\r\n(OK|ERROR)\r\n$"))
    c.command("AT+CIPRECVMODE=0")
    # OK, then ready once the board is back; ERROR where the platform cannot restart (lin).
    c.command("AT+RST", until=re.compile(rb"\r\nready\r\n$|\r\nERROR\r\n$"))


if __name__ == "__main__":
    main()
