"""Relays bytes between this process's stdin/stdout and a new pseudo-terminal.

Prints the pty's path on stderr, one line. Bytes for the pty are held while no client
has it open (the master then reads a hang-up), and released a moment after one opens
it, so a client that flushes its input on open (as serialport does) still sees them.
"""
import os
import pty
import select
import sys
import time
import tty

SETTLE = 0.05  # seconds between a client opening the pty and the first byte to it

master, slave = pty.openpty()
os.set_blocking(master, False)
tty.setraw(slave)
sys.stderr.write(os.ttyname(slave) + "\n")
sys.stderr.flush()
os.close(slave)

stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
held = bytearray()
connected_at = None

while True:
    p = select.poll()
    p.register(master, select.POLLIN)
    hangup = any(ev & select.POLLHUP for _, ev in p.poll(0))
    now = time.monotonic()
    if hangup:
        connected_at = None
    elif connected_at is None:
        connected_at = now
    ready_to_write = connected_at is not None and now - connected_at >= SETTLE

    rlist = [stdin] if len(held) < 65536 else []
    if not hangup:
        rlist.append(master)
    wlist = [master] if held and ready_to_write else []
    r, w, _ = select.select(rlist, wlist, [], 0.01)
    if stdin in r:
        data = os.read(stdin, 4096)
        if not data:
            break  # the simulator stopped: close the pty
        held += data
    if master in r:
        try:
            data = os.read(master, 4096)
        except (BlockingIOError, OSError):
            data = b""
        if data:
            os.write(stdout, data)
    if master in w:
        try:
            n = os.write(master, bytes(held[:4096]))
            del held[:n]
        except (BlockingIOError, OSError):
            pass
