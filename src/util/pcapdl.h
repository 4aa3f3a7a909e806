/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libpcap, loaded when a command first needs it (net send --pcap, net
 * recv -w).  Linked normally, libpcap brings libdbus, libsystemd and
 * libgcrypt into every run: a few milliseconds of dynamic loading that
 * every short command would pay (scripts/bench).  dlopen() puts that cost
 * on the commands that write or read pcap files only.
 *
 * The function pointers have libpcap's own signatures (pcap/pcap.h);
 * only the entry points vhuctl uses are resolved.  Never prints.
 */
#ifndef VHU_UTIL_PCAPDL_H
#define VHU_UTIL_PCAPDL_H

#include <stddef.h>
#include <stdio.h>

#include <pcap/pcap.h>

struct vhu_pcap {
	pcap_t *(*open_offline)(const char *fname, char *errbuf);
	pcap_t *(*open_dead)(int linktype, int snaplen);
	int (*datalink)(pcap_t *p);
	const char *(*datalink_val_to_name)(int dlt);
	int (*next_ex)(pcap_t *p, struct pcap_pkthdr **h, const u_char **data);
	char *(*geterr)(pcap_t *p);
	void (*close)(pcap_t *p);
	pcap_dumper_t *(*dump_fopen)(pcap_t *p, FILE *fp);
	void (*dump)(u_char *user, const struct pcap_pkthdr *h, const u_char *sp);
	int (*dump_flush)(pcap_dumper_t *d);
	void (*dump_close)(pcap_dumper_t *d);
};

/*
 * The library, loaded on the first call (libpcap.so.0.8 as Debian ships
 * it, else libpcap.so.1 or libpcap.so) and kept for the process; NULL
 * with the reason in @err when it cannot be loaded.
 */
const struct vhu_pcap *vhu_pcap(char *err, size_t len);

#endif
