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
HOLD = 65536  # bytes for the pty held at most; past it stdin is not read
CHUNK = 65536  # the most one read or write moves
held = bytearray()
connected_at = None
# For the client that has the pty open: how many bytes at the front of `held` were held from
# before it opened and have not gone to it yet, and whether it has written yet.
early = 0
spoke = False

# One poll for the loop: a call a turn, not a poll and a select. The master is in it only while
# a client has the pty open: without one it reports a hang-up at once, every time.
poller = select.poll()
poller.register(stdin, select.POLLIN)
hangup_check = select.poll()
hangup_check.register(master, select.POLLIN)
master_events = 0  # what the master is registered for in `poller`; 0: not registered

while True:
    now = time.monotonic()
    if connected_at is None and not any(ev & select.POLLHUP for _, ev in hangup_check.poll(0)):
        connected_at = now
        # What the simulator wrote before the client opened is early, even if not read yet.
        while len(held) < HOLD and select.select([stdin], [], [], 0)[0]:
            data = os.read(stdin, CHUNK)
            if not data:
                sys.exit(0)  # the simulator stopped: close the pty
            held += data
        early, spoke = len(held), False
    ready_to_write = connected_at is not None and now - connected_at >= SETTLE

    want = 0
    if connected_at is not None:
        want = select.POLLIN | (select.POLLOUT if held and ready_to_write else 0)
    if want != master_events:
        if not want:
            poller.unregister(master)
        elif master_events:
            poller.modify(master, want)
        else:
            poller.register(master, want)
        master_events = want
    poller.modify(stdin, select.POLLIN if len(held) < HOLD else 0)
    if connected_at is None:
        timeout = 10  # ms: look for a client again
    elif held and not ready_to_write:
        timeout = max(1, (SETTLE - (now - connected_at)) * 1000)
    else:
        timeout = None
    events = dict(poller.poll(timeout))

    if events.get(master, 0) & (select.POLLHUP | select.POLLERR):
        connected_at = None  # the client closed the pty; held bytes wait for the next one
        continue
    if events.get(stdin, 0) & (select.POLLIN | select.POLLHUP):
        data = os.read(stdin, CHUNK)
        if not data:
            break  # the simulator stopped: close the pty
        held += data
    master_ready = events.get(master, 0)
    if master_ready & select.POLLIN:
        try:
            data = os.read(master, CHUNK)
        except (BlockingIOError, OSError):
            data = b""
        if data and not spoke:
            # The client's first bytes, before the held ones went out: those are gone.
            spoke = True
            del held[:early]
            early = 0
        if data:
            os.write(stdout, data)
    if master_ready & select.POLLOUT and held:
        try:
            with memoryview(held) as view:
                n = os.write(master, view[:CHUNK])
            del held[:n]
            early = max(0, early - n)
        except (BlockingIOError, OSError):
            pass
