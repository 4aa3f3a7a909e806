#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one QMP command on QEMU's QMP socket and print its answer.

    qmp.py SOCKET COMMAND

Waits (at most 60 s) for the socket, reads the greeting, negotiates
capabilities, runs COMMAND and prints its "return" as JSON.  Events that
arrive in between are skipped.  Exit status 1 with a message on stderr
when QEMU answers with an error or goes away first.
"""
import json
import os
import socket
import sys
import time

WAIT = 60.0


def main():
    path, command = sys.argv[1], sys.argv[2]
    end = time.monotonic() + WAIT
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(WAIT)
            s.connect(path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > end:
                raise SystemExit("qmp.py: no QMP socket at %s" % path)
            time.sleep(0.05)
    f = s.makefile("rw")

    def answer():
        while True:
            line = f.readline()
            if not line:
                raise SystemExit("qmp.py: QEMU closed the QMP connection")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    greeting = json.loads(f.readline())
    if "QMP" not in greeting:
        raise SystemExit("qmp.py: no QMP greeting: %s" % greeting)
    for cmd in ("qmp_capabilities", command):
        f.write(json.dumps({"execute": cmd}) + "\n")
        f.flush()
        msg = answer()
        if "error" in msg:
            raise SystemExit("qmp.py: %s: %s" % (cmd, msg["error"]))
    print(json.dumps(msg["return"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
