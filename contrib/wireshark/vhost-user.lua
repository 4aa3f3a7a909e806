-- SPDX-License-Identifier: Apache-2.0
--
-- Wireshark / tshark dissector for the captures of `vhuctl proxy --pcapng`
-- (pcapng, link type LINKTYPE_USER0 = 147).  Each packet is the proxy's
-- pseudo-header, then the vhost-user message as it crossed the socket
-- (layout: src/decode/capture.h):
--
--   0  u8  version (1)            1  u8  kind: 0 message, 1 event
--   2  u8  dir: 0 F>B, 1 B>F      3  u8  channel: 0 main, 1 back-end channel
--   4  u32 session                8  u8  expect: 0 none, 1 reply, 2 ack
--   9  u8  flags: 0x1 interposed, 0x2 dropped, 0x4 reply
--  10  u8  number of fds         11  u8  reserved
--  12  u16 event name length     14  u16 text length (problem or note)
--  16  i64 round-trip time in us (-1: none)
--  24  i64 us since the proxy started
--  32  per fd: u8 type, 7 bytes 0, i64 size (-1: none)
--  then the event name, the text, and the message (header + payload).
--
-- Use:  tshark -X lua_script:contrib/wireshark/vhost-user.lua -r CAPTURE
--       (or copy it into Wireshark's personal Lua plugins folder).
-- Message names are the spec's without VHOST_USER_ (back-end channel
-- requests with BACKEND_), as in vhuctl's own output.

local p = Proto("vhost_user", "vhost-user (vhuctl proxy capture)")

local requests = {
	[1] = "GET_FEATURES", [2] = "SET_FEATURES", [3] = "SET_OWNER", [4] = "RESET_OWNER",
	[5] = "SET_MEM_TABLE", [6] = "SET_LOG_BASE", [7] = "SET_LOG_FD", [8] = "SET_VRING_NUM",
	[9] = "SET_VRING_ADDR", [10] = "SET_VRING_BASE", [11] = "GET_VRING_BASE",
	[12] = "SET_VRING_KICK", [13] = "SET_VRING_CALL", [14] = "SET_VRING_ERR",
	[15] = "GET_PROTOCOL_FEATURES", [16] = "SET_PROTOCOL_FEATURES", [17] = "GET_QUEUE_NUM",
	[18] = "SET_VRING_ENABLE", [19] = "SEND_RARP", [20] = "NET_SET_MTU",
	[21] = "SET_BACKEND_REQ_FD", [22] = "IOTLB_MSG", [23] = "SET_VRING_ENDIAN",
	[24] = "GET_CONFIG", [25] = "SET_CONFIG", [26] = "CREATE_CRYPTO_SESSION",
	[27] = "CLOSE_CRYPTO_SESSION", [28] = "POSTCOPY_ADVISE", [29] = "POSTCOPY_LISTEN",
	[30] = "POSTCOPY_END", [31] = "GET_INFLIGHT_FD", [32] = "SET_INFLIGHT_FD",
	[33] = "GPU_SET_SOCKET", [34] = "RESET_DEVICE", [35] = "VRING_KICK",
	[36] = "GET_MAX_MEM_SLOTS", [37] = "ADD_MEM_REG", [38] = "REM_MEM_REG", [39] = "SET_STATUS",
	[40] = "GET_STATUS", [41] = "GET_SHARED_OBJECT", [42] = "SET_DEVICE_STATE_FD",
	[43] = "CHECK_DEVICE_STATE", [44] = "GET_SHMEM_CONFIG", [45] = "GET_VRING_BASE_SKIP_DRAIN",
	[1004] = "GET_SHARED_MEMORY_REGIONS",
}

local backend_requests = {
	[1] = "BACKEND_IOTLB_MSG", [2] = "BACKEND_CONFIG_CHANGE_MSG",
	[3] = "BACKEND_VRING_HOST_NOTIFIER_MSG", [4] = "BACKEND_VRING_CALL", [5] = "BACKEND_VRING_ERR",
	[6] = "BACKEND_SHARED_OBJECT_ADD", [7] = "BACKEND_SHARED_OBJECT_REMOVE",
	[8] = "BACKEND_SHARED_OBJECT_LOOKUP", [9] = "BACKEND_SHMEM_MAP", [10] = "BACKEND_SHMEM_UNMAP",
}

-- enum vhu_fd_type (src/proto/msg.h)
local fd_types = {
	[0] = "memfd", [1] = "eventfd", [2] = "file", [3] = "socket", [4] = "pipe", [5] = "device",
	[6] = "anon", [7] = "other", [8] = "bad",
}

-- Requests whose payload is one u64 of a known meaning, by code.
local u64_name = {
	[1] = "features", [2] = "features", [15] = "protocol_features", [16] = "protocol_features",
	[17] = "u64", [36] = "u64", [39] = "status", [40] = "status",
}
-- Requests whose payload is a vring state {index, num}.
local vring_state = { [8] = true, [10] = true, [11] = true, [18] = true, [45] = true }
-- Requests whose payload is a vring fd u64 (index | no-fd bit 8).
local vring_fd = { [12] = true, [13] = true, [14] = true }

local f = p.fields
f.version = ProtoField.uint8("vhost_user.version", "Record version")
f.kind = ProtoField.uint8("vhost_user.kind", "Record kind", base.DEC, { [0] = "message", [1] = "event" })
f.dir = ProtoField.string("vhost_user.dir", "Direction")
f.chan = ProtoField.bool("vhost_user.chan", "Back-end channel")
f.session = ProtoField.uint32("vhost_user.session", "Session")
f.expect = ProtoField.uint8("vhost_user.expect", "Expects", base.DEC, { [0] = "nothing", [1] = "reply", [2] = "ack" })
f.interposed = ProtoField.bool("vhost_user.interposed", "Back-end channel interposed")
f.dropped = ProtoField.bool("vhost_user.dropped", "Dropped")
f.nfds = ProtoField.uint8("vhost_user.nfds", "File descriptors")
f.rtt = ProtoField.int64("vhost_user.rtt_us", "Round-trip time (us)")
f.t = ProtoField.int64("vhost_user.t_us", "Since the proxy started (us)")
f.fd_type = ProtoField.uint8("vhost_user.fd.type", "fd type", base.DEC, fd_types)
f.fd_size = ProtoField.int64("vhost_user.fd.size", "fd size")
f.event = ProtoField.string("vhost_user.event", "Event")
f.note = ProtoField.string("vhost_user.note", "Note")
f.invalid = ProtoField.string("vhost_user.invalid", "Invalid")
f.request = ProtoField.uint32("vhost_user.request", "Request")
f.name = ProtoField.string("vhost_user.name", "Name")
f.flags = ProtoField.uint32("vhost_user.flags", "Flags", base.HEX)
f.flag_version = ProtoField.uint32("vhost_user.flags.version", "Version", base.DEC, nil, 0x3)
f.flag_reply = ProtoField.bool("vhost_user.flags.reply", "Reply", 32, nil, 0x4)
f.flag_need_reply = ProtoField.bool("vhost_user.flags.need_reply", "Need reply", 32, nil, 0x8)
f.size = ProtoField.uint32("vhost_user.size", "Payload size")
f.payload = ProtoField.bytes("vhost_user.payload", "Payload")
f.u64 = ProtoField.uint64("vhost_user.u64", "Value", base.HEX)
f.vring = ProtoField.uint32("vhost_user.vring", "Vring")
f.num = ProtoField.uint32("vhost_user.num", "Num")
f.nofd = ProtoField.bool("vhost_user.nofd", "No fd")

function p.dissector(buf, pinfo, tree)
	if buf:len() < 32 or buf(0, 1):uint() ~= 1 then
		return 0
	end
	pinfo.cols.protocol = "vhost-user"
	local t = tree:add(p, buf(), "vhost-user")
	local kind = buf(1, 1):uint()
	local dir = buf(2, 1):uint() == 0 and "F>B" or "B>F"
	local chan = buf(3, 1):uint() ~= 0
	local session = buf(4, 4):le_uint()
	local flags = buf(9, 1):uint()
	local nfds = buf(10, 1):uint()
	local elen = buf(12, 2):le_uint()
	local tlen = buf(14, 2):le_uint()
	t:add(f.version, buf(0, 1))
	t:add(f.kind, buf(1, 1))
	t:add(f.dir, buf(2, 1), dir)
	t:add(f.chan, buf(3, 1), chan)
	t:add_le(f.session, buf(4, 4))
	t:add(f.expect, buf(8, 1))
	t:add(f.interposed, buf(9, 1), bit.band(flags, 1) ~= 0)
	t:add(f.dropped, buf(9, 1), bit.band(flags, 2) ~= 0)
	t:add(f.nfds, buf(10, 1))
	local rtt = buf(16, 8):le_int64()
	if rtt >= Int64(0) then
		t:add_le(f.rtt, buf(16, 8))
	end
	t:add_le(f.t, buf(24, 8))
	local off = 32
	local fds = {}
	for i = 1, nfds do
		local ft = t:add(f.fd_type, buf(off, 1))
		local size = buf(off + 8, 8):le_int64()
		local label = fd_types[buf(off, 1):uint()] or "other"
		if size >= Int64(0) then
			t:add_le(f.fd_size, buf(off + 8, 8))
			label = label .. ":" .. tostring(size)
		end
		fds[#fds + 1] = label
		off = off + 16
	end
	local event = ""
	if elen > 0 then
		event = buf(off, elen):string()
		t:add(f.event, buf(off, elen))
	end
	off = off + elen
	local text = ""
	if tlen > 0 then
		text = buf(off, tlen):string()
	end
	if kind == 1 then
		if tlen > 0 then
			t:add(f.note, buf(off, tlen))
		end
		pinfo.cols.info = string.format("s%u -- %s: %s", session, event, text)
		return buf:len()
	end
	if tlen > 0 then
		t:add(f.invalid, buf(off, tlen))
	end
	off = off + tlen
	if buf:len() < off + 12 then
		return buf:len()
	end
	local code = buf(off, 4):le_uint()
	local mflags = buf(off + 4, 4):le_uint()
	local size = buf(off + 8, 4):le_uint()
	local name = (chan and backend_requests or requests)[code] or
		string.format("%sREQ_%u", chan and "BACKEND_" or "", code)
	local reply = bit.band(mflags, 4) ~= 0
	t:add_le(f.request, buf(off, 4)):append_text(" (" .. name .. ")")
	t:add(f.name, buf(off, 4), name)
	local ft = t:add_le(f.flags, buf(off + 4, 4))
	ft:add_le(f.flag_version, buf(off + 4, 4))
	ft:add_le(f.flag_reply, buf(off + 4, 4))
	ft:add_le(f.flag_need_reply, buf(off + 4, 4))
	t:add_le(f.size, buf(off + 8, 4))
	local body = off + 12
	local info = ""
	if size > 0 and buf:len() >= body + size then
		local pl = buf(body, size)
		t:add(f.payload, pl)
		if not chan and vring_state[code] and size >= 8 then
			t:add_le(f.vring, buf(body, 4))
			t:add_le(f.num, buf(body + 4, 4))
			info = string.format(" vring=%u num=%u", buf(body, 4):le_uint(), buf(body + 4, 4):le_uint())
		elseif not chan and vring_fd[code] and size >= 8 then
			local v = buf(body, 4):le_uint()
			t:add(f.vring, buf(body, 4), bit.band(v, 0xff))
			t:add(f.nofd, buf(body, 4), bit.band(v, 0x100) ~= 0)
			info = string.format(" vring=%u", bit.band(v, 0xff))
		elseif size == 8 then
			t:add_le(f.u64, buf(body, 8))
			-- A reply to a request that waited for an ack carries its status.
			local label = reply and buf(8, 1):uint() == 2 and "ack" or (u64_name[code] or "u64")
			info = string.format(" %s=0x%s", label, buf(body, 8):le_uint64():tohex():gsub("^0+(.)", "%1"))
		end
	end
	local fdtext = #fds > 0 and (" fds=[" .. table.concat(fds, ",") .. "]") or ""
	pinfo.cols.info = string.format("s%u %s %s %s%s flags=0x%x size=%u%s%s%s", session, dir,
		chan and "chan" or "main", name, reply and " reply" or "", mflags, size, fdtext, info,
		tlen > 0 and (" INVALID: " .. text) or "")
	return buf:len()
end

local encaps = wtap_encaps or wtap
DissectorTable.get("wtap_encap"):add(encaps.USER0, p)
