/* SPDX-License-Identifier: Apache-2.0 */
/* Libraries loaded on first use: see dl.h. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dl.h"

void *vhu_dl_load(const char *const *names, size_t nnames, const char *lib, const char *pkg,
		  const struct vhu_dl_sym *fns, size_t nfns, void *table, size_t size, char *err, size_t len)
{
	char tmp[512];
	void *h = NULL;

	if (size > sizeof(tmp)) {
		snprintf(err, len, "%s: table too large", lib);
		return NULL;
	}
	for (size_t i = 0; i < nnames && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, len, "cannot load %s (%s): install %s", lib, dlerror(), pkg);
		return NULL;
	}
	for (size_t i = 0; i < nfns; i++) {
		void *f = dlsym(h, fns[i].name);

		if (!f) {
			snprintf(err, len, "%s lacks %s", lib, fns[i].name);
			dlclose(h);
			return NULL;
		}
		/* POSIX: a function pointer and void * convert both ways. */
		memcpy(tmp + fns[i].off, &f, sizeof(f));
	}
	memcpy(table, tmp, size);
	return h;
}
