#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the hand-made seeds of tests/fuzz/corpus (seed-* files).

Each seed is [selector][back-end bytes]; see fuzz_reply.c for the selector
(bits 0-4 operation, bit 5 REPLY_ACK, bits 6-7 fd mode / bare session).
Run from anywhere: python3 tests/fuzz/make_seeds.py.  Files the fuzzer
added (sha1 names) are left alone.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

ACK = 0x20
FD1 = 0x40  # one fd on the first reply byte
FDS = 0x80  # 33 fds
BARE = 0xC0  # nothing negotiated, --force

OPS = {name: i for i, name in enumerate([
    "get_features", "get_protocol_features", "get_queue_num", "get_max_mem_slots", "get_status",
    "get_vring_base0", "channel", "get_config_0_60", "get_config_0_256", "get_config_16_8",
    "get_config_255_1", "get_config_beyond", "set_owner", "raw_get_features", "raw_unknown",
    "set_vring_kick", "set_vring_call_nofd", "get_inflight_fd", "get_shared_object",
    "ds_load", "ds_check", "get_shmem_config", "get_shared_memory_regions",
    "set_log_base", "iotlb_msg", "postcopy_advise", "create_crypto_session", "negotiate",
    "set_mem_table", "set_features", "set_config", "set_status_barrier",
])}

REPLY = 0x5  # version 1 | REPLY


def hdr(code, size, flags=REPLY):
    return struct.pack("<III", code, flags, size)


def msg(code, body=b"", flags=REPLY, size=None):
    return hdr(code, len(body) if size is None else size, flags) + body


def u64(v):
    return struct.pack("<Q", v)


def cfg(off, size, data, flags=0):
    return struct.pack("<III", off, size, flags) + data


seeds = {}


def seed(name, op, rest, mode=0):
    seeds[name] = bytes([OPS[op] | mode]) + rest


# ---- valid replies, one or more per operation ----
seed("get-features-ok", "get_features", msg(1, u64(0x170000000)))
seed("get-protocol-features-ok", "get_protocol_features", msg(15, u64(0xDB22B)))
seed("get-queue-num-ok", "get_queue_num", msg(17, u64(2)))
seed("get-max-mem-slots-ok", "get_max_mem_slots", msg(36, u64(32)))
seed("get-status-ok", "get_status", msg(40, u64(0x0F)))
seed("get-vring-base0-ok", "get_vring_base0", msg(11, struct.pack("<II", 0, 17)))
blk = struct.pack("<QII", 2097152, 65536, 126) + bytes(44)
seed("get-config-blk-60-ok", "get_config_0_60", msg(24, cfg(0, 60, blk)))
seed("get-config-256-ok", "get_config_0_256", msg(24, cfg(0, 256, bytes(range(256)))))
seed("get-config-16-8-ok", "get_config_16_8", msg(24, cfg(16, 8, b"\x01\x02\x03\x04\x05\x06\x07\x08")))
seed("set-owner-ack-ok", "set_owner", msg(3, u64(0)), ACK)
seed("raw-get-features-fd", "raw_get_features", msg(1, u64(0x100000000)), FD1)
seed("raw-unknown-code", "raw_unknown", msg(9999, b"abc"))
seed("set-vring-kick-ack", "set_vring_kick", msg(12, u64(0)), ACK)
seed("set-vring-call-nofd-ack", "set_vring_call_nofd", msg(13, u64(0)), ACK)
seed("get-inflight-fd-ok", "get_inflight_fd", msg(31, struct.pack("<QQHHI", 8192, 0, 2, 256, 0)), FD1)
seed("get-shared-object-ok", "get_shared_object", msg(41, bytes(range(16))), FD1)
seed("ds-load-own-pipe", "ds_load", msg(42, u64(0x100)) + msg(43, u64(0)))
seed("ds-load-backend-fd", "ds_load", msg(42, u64(0)) + msg(43, u64(0)), FD1)
seed("get-shmem-config-ok", "get_shmem_config", msg(44, struct.pack("<I", 1) + bytes(4) + u64(1 << 20) + bytes(2056 - 16)))
seed("get-shared-memory-regions-ok", "get_shared_memory_regions",
     msg(1004, u64(1) + struct.pack("<B7xQ", 0, 1 << 20)))
seed("set-log-base-ok", "set_log_base", msg(6, u64(0)))
seed("postcopy-advise-fd", "postcopy_advise", msg(28), FD1)
seed("create-crypto-session-ok", "create_crypto_session", msg(26, bytes(1072)))
# negotiate: GET_FEATURES, GET_PROTOCOL_FEATURES, (SET_PROTOCOL_FEATURES),
# SET_OWNER ack (REPLY_ACK offered), then GET_QUEUE_NUM (MQ offered).
seed("negotiate-full", "negotiate",
     msg(1, u64(0x140000000)) + msg(15, u64(0x9)) + msg(3, u64(0)) + msg(17, u64(4)))
seed("set-mem-table-ack", "set_mem_table", msg(5, u64(0)), ACK)
seed("set-status-barrier", "set_status_barrier", msg(1, u64(0x100000000)))

# back-end channel (operation "channel"): the bytes are back-end requests
NEED = 0x9  # version 1 | NEED_REPLY
seed("chan-mixed", "channel",
     msg(1, struct.pack("<QQQBB6x", 0x1000, 0x1000, 0x7F0000000000, 3, 1), flags=NEED)
     + msg(2, flags=0x1) + msg(8, bytes(range(16)), flags=0x1) + msg(4, struct.pack("<II", 0, 1), flags=NEED)
     + msg(10, struct.pack("<B7xQQQQ", 0, 0, 0, 4096, 0), flags=NEED))
seed("chan-host-notifier-fd", "channel", msg(3, struct.pack("<QQQ", 0, 4096, 0), flags=NEED), FD1)
seed("chan-unknown-code", "channel", msg(77, b"hello", flags=NEED))

# ---- hostile replies ----
feat = u64(0x170000000)
seed("bad-wrong-code", "get_features", msg(2, feat))
seed("bad-no-reply-flag", "get_features", msg(1, feat, flags=0x1))
seed("bad-version", "get_features", msg(1, feat, flags=0x6))
seed("bad-huge-size", "get_features", hdr(1, 0x7FFFFFFF))
seed("bad-truncated-body", "get_features", msg(1, feat, size=8)[:16])
seed("bad-truncated-header", "get_features", hdr(1, 8)[:6])
seed("bad-oversize", "get_features", msg(1, feat + bytes(8)))
seed("bad-extra-bytes-after", "get_features", msg(1, feat) + b"\xde\xad\xbe\xef" * 4)
seed("bad-empty", "get_features", b"")
seed("bad-stray-fd", "get_features", msg(1, feat), FD1)
seed("bad-too-many-fds", "get_features", msg(1, feat), FDS)
seed("bad-chan-reply-flag", "channel", msg(2, flags=REPLY))
seed("bad-chan-oversize", "channel", msg(1, bytes(40), flags=NEED))
seed("bad-garbage", "get_protocol_features",
     bytes((i * 131 + 17) & 0xFF for i in range(64)))
seed("bad-queue-num-0", "get_queue_num", msg(17, u64(0)))
seed("bad-vring-base-index", "get_vring_base0", msg(11, struct.pack("<II", 1, 17)))
seed("bad-config-empty", "get_config_0_60", msg(24))
seed("bad-config-offset", "get_config_16_8", msg(24, cfg(17, 8, bytes(8))))
seed("bad-config-size-field", "get_config_16_8", msg(24, cfg(16, 10, bytes(10))))
seed("bad-config-payload", "get_config_16_8", msg(24, cfg(16, 8, bytes(10))))
seed("bad-ack-nak", "set_owner", msg(3, u64(1)), ACK)
seed("bad-inflight-two-fds", "get_inflight_fd", msg(31, bytes(24)), FDS)
seed("bad-negotiate-cut", "negotiate", msg(1, u64(0x140000000)) + msg(15, u64(0x9))[:10])
seed("bare-get-queue-num-forced", "get_queue_num", msg(17, u64(2)), BARE)

# ---- decoder and parser food (the session part fails fast on these) ----
inp = bytes([0x01, 0, 5, 0, 0, 0, 0, 0]) + b"hello" + bytes(123)
seed("text-input-id-name", "get_config_beyond", inp)
seed("text-input-abs-info", "get_config_beyond", bytes([0x12, 0, 20, 0, 0, 0, 0, 0]) + bytes(range(20)))
seed("text-input-ev-bits", "get_config_beyond", bytes([0x11, 1, 3, 0, 0, 0, 0, 0, 7, 0, 1]))
seed("text-fs-tag", "get_config_beyond", b"myfs\\\x01\x7f" + bytes(29) + struct.pack("<II", 1, 4096))
seed("text-mask-names", "get_config_beyond", b"VIRTIO_F_VERSION_1,bit_3|MQ+ring_packed")
seed("text-protocol-names", "get_config_beyond", b"REPLY_ACK,SLAVE_REQ,offered")
seed("text-hex-bytes", "get_config_beyond", b"0a:0b 0c-0d,ff")

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds written to {OUT}")
