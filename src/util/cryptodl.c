/* SPDX-License-Identifier: Apache-2.0 */
/* libcrypto through dlopen(): see cryptodl.h. */
#include <stddef.h>
#include <stdio.h>

#include "util/cryptodl.h"
#include "util/dl.h"

static struct vhu_crypto api;
static void *handle;

const struct vhu_crypto *vhu_crypto(char *err, size_t len)
{
	static const char *const names[] = { "libcrypto.so.3", "libcrypto.so" };
	static const struct vhu_dl_sym fns[] = {
		{ "OPENSSL_init_crypto", offsetof(struct vhu_crypto, init_crypto) },
		{ "EVP_MD_CTX_new", offsetof(struct vhu_crypto, md_ctx_new) },
		{ "EVP_MD_CTX_free", offsetof(struct vhu_crypto, md_ctx_free) },
		{ "EVP_sha256", offsetof(struct vhu_crypto, sha256) },
		{ "EVP_DigestInit_ex", offsetof(struct vhu_crypto, digest_init_ex) },
		{ "EVP_DigestUpdate", offsetof(struct vhu_crypto, digest_update) },
		{ "EVP_DigestFinal_ex", offsetof(struct vhu_crypto, digest_final_ex) },
	};

	if (!handle)
		handle = vhu_dl_load(names, sizeof(names) / sizeof(names[0]), "libcrypto", "libssl3", fns,
				     sizeof(fns) / sizeof(fns[0]), &api, sizeof(api), err, len);
	return handle ? &api : NULL;
}
