#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A scriptable vhost-user front-end for the proxy tests: sends what a
well-behaved front-end would not (garbage, half messages, no reads), and
checks what comes back.  Every wait is bounded (60 s) and ends on an
event: a reply, EOF, or a send that fails.

    frontend.py SOCKET SCENARIO [ARG]

Exit status 0 when the scenario saw what it expects, 1 with a message on
stderr otherwise.
"""
import array
import os
import signal
import socket
import struct
import sys
import time

WAIT = 60.0
GET_FEATURES = 1
VERSION = 0x1
REPLY = 0x4


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(WAIT)
    s.connect(path)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("EOF after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def get_features(s):
    s.sendall(struct.pack("<III", GET_FEATURES, VERSION, 0))
    code, flags, size = struct.unpack("<III", recv_exact(s, 12))
    body = recv_exact(s, size)
    if code != GET_FEATURES or flags != VERSION | REPLY or size != 8:
        raise AssertionError("bad reply: code %d flags 0x%x size %d" % (code, flags, size))
    return struct.unpack("<Q", body)[0]


def wait_eof(s):
    """The proxy closes a session it ended: recv returns b"" (or a reset)."""
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass


def still_open(s):
    s.setblocking(False)
    try:
        data = s.recv(1)
        return False if data == b"" else True
    except BlockingIOError:
        return True
    finally:
        s.settimeout(WAIT)


def main():
    path, scenario = sys.argv[1], sys.argv[2]
    if scenario == "garbage":
        # Session 1 works, session 2 sends a header announcing 2 GiB of
        # payload: only session 2 ends, session 1 still works.
        a = connect(path)
        get_features(a)
        b = connect(path)
        b.sendall(struct.pack("<III", 0x41414141, 0x41414141, 0x7FFFFFFF) + b"garbage")
        wait_eof(b)
        get_features(a)
    elif scenario == "stall":
        # Session 1 works; session 2 sends half a header and stops; session
        # 1 is still served, and session 2 still connected after that.
        # (Back-ends, the mock included, serve one connection at a time:
        # the stalled session is the later one.)
        a = connect(path)
        get_features(a)
        b = connect(path)
        b.sendall(struct.pack("<III", GET_FEATURES, VERSION, 0)[:5])
        get_features(a)
        if not still_open(b):
            raise AssertionError("the stalled session was ended before the other one was served")
        a.close()
        if len(sys.argv) > 3 and sys.argv[3] == "wait":
            wait_eof(b)
    elif scenario == "half-close":
        # Half a message, then the front-end goes away.
        a = connect(path)
        a.sendall(struct.pack("<III", GET_FEATURES, VERSION, 8) + b"\0\0\0")
        a.close()
    elif scenario == "no-read":
        # Requests without ever reading a reply: the proxy's queue toward
        # this front-end fills and the session ends (send fails).
        a = connect(path)
        chunk = struct.pack("<III", GET_FEATURES, VERSION, 0) * 1024
        try:
            for _ in range(100000):
                a.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return 0
        raise AssertionError("the session never ended")
    elif scenario == "answer-and-leave":
        # Open the back-end channel, read the back-end's request on it,
        # then, while the proxy (pid ARG) is stopped, answer it and close
        # everything: the proxy then sees the answer and the end of the
        # main socket at once, and must still relay the answer.
        pid = int(sys.argv[3])
        a = connect(path)
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        mine.settimeout(WAIT)
        a.sendmsg([struct.pack("<III", 21, VERSION, 0)],
                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [theirs.fileno()]))])
        theirs.close()
        code, flags, size = struct.unpack("<III", recv_exact(mine, 12))
        recv_exact(mine, size)
        os.kill(pid, signal.SIGSTOP)
        end = time.monotonic() + WAIT
        while open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "T":
            if time.monotonic() > end:
                raise AssertionError("the proxy never stopped")
            time.sleep(0.01)
        mine.sendall(struct.pack("<IIIQ", code, VERSION | REPLY, 8, 0))
        mine.close()
        a.close()
        os.kill(pid, signal.SIGCONT)
    elif scenario == "serve-front":
        # A front-end in server mode (QEMU server=on): create the socket,
        # take the proxy's connection, one GET_FEATURES round trip.
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(WAIT)
        a, _ = srv.accept()
        a.settimeout(WAIT)
        print("0x%x" % get_features(a))
        a.close()
        srv.close()
        os.unlink(path)
    elif scenario == "client-back":
        # A back-end in client mode (DPDK vhost client=1): connect to the
        # proxy's socket once it is there, answer GET_FEATURES until EOF.
        end = time.monotonic() + WAIT
        while True:
            try:
                b = connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > end:
                    raise AssertionError("no socket at " + path)
                time.sleep(0.02)
        while True:
            try:
                code, flags, size = struct.unpack("<III", recv_exact(b, 12))
            except EOFError:
                return 0
            recv_exact(b, size)
            if code == GET_FEATURES:
                b.sendall(struct.pack("<IIIQ", code, VERSION | REPLY, 8, 0x140000000))
    elif scenario == "accepts":
        # Wait until something listens on the socket (it exists from
        # bind(), before listen()); connect and leave at once.
        end = time.monotonic() + WAIT
        while True:
            try:
                connect(path).close()
                return 0
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > end:
                    raise AssertionError("nothing accepts on " + path)
                time.sleep(0.02)
    elif scenario == "features":
        print("0x%x" % get_features(connect(path)))
    else:
        raise SystemExit("unknown scenario " + scenario)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AssertionError, EOFError, OSError) as e:
        print("frontend.py: %s" % e, file=sys.stderr)
        sys.exit(1)
