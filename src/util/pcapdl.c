/* SPDX-License-Identifier: Apache-2.0 */
/* libpcap through dlopen(): see pcapdl.h. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "util/pcapdl.h"

static struct vhu_pcap api;
static void *handle;

/* Resolve @name into *@slot; false when it is missing. */
static bool sym(void *h, void *slot, const char *name)
{
	void *f = dlsym(h, name);

	/* POSIX: a function pointer and void * convert both ways. */
	memcpy(slot, &f, sizeof(f));
	return f != NULL;
}

const struct vhu_pcap *vhu_pcap(char *err, size_t len)
{
	static const char *const names[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"};
	static const struct {
		const char *name;
		size_t off;
	} fns[] = {
		{"pcap_open_offline", offsetof(struct vhu_pcap, open_offline)},
		{"pcap_open_dead", offsetof(struct vhu_pcap, open_dead)},
		{"pcap_datalink", offsetof(struct vhu_pcap, datalink)},
		{"pcap_datalink_val_to_name", offsetof(struct vhu_pcap, datalink_val_to_name)},
		{"pcap_next_ex", offsetof(struct vhu_pcap, next_ex)},
		{"pcap_geterr", offsetof(struct vhu_pcap, geterr)},
		{"pcap_close", offsetof(struct vhu_pcap, close)},
		{"pcap_dump_fopen", offsetof(struct vhu_pcap, dump_fopen)},
		{"pcap_dump", offsetof(struct vhu_pcap, dump)},
		{"pcap_dump_flush", offsetof(struct vhu_pcap, dump_flush)},
		{"pcap_dump_close", offsetof(struct vhu_pcap, dump_close)},
	};
	struct vhu_pcap a;
	void *h = NULL;

	if (handle)
		return &api;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, len, "cannot load libpcap (%s): install libpcap0.8", dlerror());
		return NULL;
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (!sym(h, (char *)&a + fns[i].off, fns[i].name)) {
			snprintf(err, len, "libpcap lacks %s", fns[i].name);
			dlclose(h);
			return NULL;
		}
	api = a;
	handle = h;
	return &api;
}
