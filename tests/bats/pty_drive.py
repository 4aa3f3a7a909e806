#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Drive a program on a pseudo-terminal, as a person at a terminal would.

    pty_drive.py SCRIPT -- PROGRAM [ARG...]

PROGRAM runs with a new pty as its stdin, stdout and stderr (TERM=xterm
unless set).  SCRIPT is read line by line:

    expect TEXT     wait until TEXT appears in the output after the last match
    send TEXT       type TEXT; \\t \\r \\n \\x01 \\x1b[A ... are escapes
    signal NAME     send signal NAME (INT, TERM, ...) to PROGRAM

There is no "type Ctrl-D": a program may show its prompt before it puts
the terminal in raw mode, and an end-of-file character the line discipline
takes in canonical mode is lost in the switch (ordinary characters are
not), so a script could not wait for the moment it is safe.

Every wait is for an event (the text, the program's exit), bounded by a
generous 60 s that only a failure reaches.  At the end the whole output
(as received, terminal escapes included) goes to stdout, then a last line
"EXIT <status>" (128 + N for a program killed by signal N).  Exit status 0,
or 99 when an expect failed or the program did not end.
"""
import os
import pty
import select
import signal
import sys
import time

LIMIT = 60.0


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        script = [l.rstrip("\n") for l in f if l.strip()]
    argv = sys.argv[3:]
    env = dict(os.environ)
    env.setdefault("TERM", "xterm")
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = bytearray()
    pos = 0
    status = None

    def read_some(deadline):
        nonlocal status
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the program closed its side
            data = b""
        if not data:
            return None
        out.extend(data)
        return True

    def fail(why):
        sys.stdout.buffer.write(bytes(out))
        sys.stdout.write("\npty_drive: %s\n" % why)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(99)

    for line in script:
        cmd, _, arg = line.partition(" ")
        if cmd == "expect":
            want = arg.encode()
            deadline = time.monotonic() + LIMIT
            while True:
                i = out.find(want, pos)
                if i >= 0:
                    pos = i + len(want)
                    break
                got = read_some(deadline)
                if got is None:
                    fail("the program ended before %r" % arg)
                if got is False and time.monotonic() >= deadline:
                    fail("no %r within %d s" % (arg, LIMIT))
        elif cmd == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif cmd == "signal":
            os.kill(pid, getattr(signal, "SIG" + arg))
        else:
            fail("bad script line %r" % line)
    # Whatever follows, until the program ends.
    deadline = time.monotonic() + LIMIT
    while True:
        got = read_some(deadline)
        if got is None:
            break
        if got is False and time.monotonic() >= deadline:
            fail("the program did not end within %d s" % LIMIT)
    _, st = os.waitpid(pid, 0)
    status = os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)
    sys.stdout.buffer.write(bytes(out))
    sys.stdout.write("\nEXIT %d\n" % status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
