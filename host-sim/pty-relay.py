"""Relays bytes between this process's stdin/stdout and a new pseudo-terminal.

Prints the pty's path on stderr, one line. Bytes for the pty are held while no client
has it open (the master then reads a hang-up), and released a moment after one opens
it, so a client that flushes its input on open (as serialport does) still sees them.
A client that writes in that moment, before it could read them, drops what was held from
before it opened, as a board's output from before the host opened the port is gone: a host
that resets the board at once (lwesp's AT+RST) waits for its reset's `ready`, not the boot's.
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
# For the client that has the pty open: how many bytes at the front of `held` were held from
# before it opened and have not gone to it yet, and whether it has written yet.
early = 0
spoke = False

while True:
    p = select.poll()
    p.register(master, select.POLLIN)
    hangup = any(ev & select.POLLHUP for _, ev in p.poll(0))
    now = time.monotonic()
    if hangup:
        connected_at = None
    elif connected_at is None:
        connected_at = now
        # What the simulator wrote before the client opened is early, even if not read yet.
        while len(held) < 65536 and select.select([stdin], [], [], 0)[0]:
            data = os.read(stdin, 4096)
            if not data:
                sys.exit(0)  # the simulator stopped: close the pty
            held += data
        early, spoke = len(held), False
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
        if data and not spoke:
            # The client's first bytes, before the held ones went out: those are gone.
            spoke = True
            del held[:early]
            early = 0
        if data:
            os.write(stdout, data)
    if master in w and held:
        try:
            n = os.write(master, bytes(held[:4096]))
            del held[:n]
            early = max(0, early - n)
        except (BlockingIOError, OSError):
            pass
