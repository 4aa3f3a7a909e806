/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading a shared library on first use (util/pcapdl.h, util/cryptodl.h):
 * dlopen() the first of @names that loads, then resolve each entry of
 * @fns into the function-pointer table at @table.  Never prints.
 */
#ifndef VHU_UTIL_DL_H
#define VHU_UTIL_DL_H

#include <stddef.h>

struct vhu_dl_sym {
	const char *name; /* the library's symbol */
	size_t off;	  /* its slot: offsetof() in the table */
};

/*
 * The handle (kept by the caller for the process), with every slot of
 * @table filled; NULL with the reason in @err ("cannot load LIB (why):
 * install PKG", "LIB lacks NAME"), @table then untouched.
 */
void *vhu_dl_load(const char *const *names, size_t nnames, const char *lib, const char *pkg,
		  const struct vhu_dl_sym *fns, size_t nfns, void *table, size_t size, char *err, size_t len);

#endif
