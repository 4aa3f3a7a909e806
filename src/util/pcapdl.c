/* SPDX-License-Identifier: Apache-2.0 */
/* libpcap through dlopen(): see pcapdl.h. */
#include <stddef.h>
#include <stdio.h>

#include "util/dl.h"
#include "util/pcapdl.h"

static struct vhu_pcap api;
static void *handle;

const struct vhu_pcap *vhu_pcap(char *err, size_t len)
{
	static const char *const names[] = { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" };
	static const struct vhu_dl_sym fns[] = {
		{ "pcap_open_offline", offsetof(struct vhu_pcap, open_offline) },
		{ "pcap_open_dead", offsetof(struct vhu_pcap, open_dead) },
		{ "pcap_datalink", offsetof(struct vhu_pcap, datalink) },
		{ "pcap_datalink_val_to_name", offsetof(struct vhu_pcap, datalink_val_to_name) },
		{ "pcap_next_ex", offsetof(struct vhu_pcap, next_ex) },
		{ "pcap_geterr", offsetof(struct vhu_pcap, geterr) },
		{ "pcap_close", offsetof(struct vhu_pcap, close) },
		{ "pcap_dump_fopen", offsetof(struct vhu_pcap, dump_fopen) },
		{ "pcap_dump", offsetof(struct vhu_pcap, dump) },
		{ "pcap_dump_flush", offsetof(struct vhu_pcap, dump_flush) },
		{ "pcap_dump_close", offsetof(struct vhu_pcap, dump_close) },
	};

	if (!handle)
		handle = vhu_dl_load(names, sizeof(names) / sizeof(names[0]), "libpcap", "libpcap0.8", fns,
				     sizeof(fns) / sizeof(fns[0]), &api, sizeof(api), err, len);
	return handle ? &api : NULL;
}
