/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcrypto (OpenSSL 3), loaded when a command first needs a digest
 * (device-state's SHA-256).  Linked normally, its relocations cost every
 * run of every command more than half a millisecond at start-up, as much
 * as a whole `probe` (scripts/bench); dlopen() puts that cost on
 * device-state only.
 *
 * The function pointers have libcrypto's own signatures (openssl/evp.h);
 * only the entry points vhuctl uses are resolved.  Never prints.
 */
#ifndef VHU_UTIL_CRYPTODL_H
#define VHU_UTIL_CRYPTODL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct vhu_crypto {
	int (*init_crypto)(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings);
	EVP_MD_CTX *(*md_ctx_new)(void);
	void (*md_ctx_free)(EVP_MD_CTX *ctx);
	const EVP_MD *(*sha256)(void);
	int (*digest_init_ex)(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl);
	int (*digest_update)(EVP_MD_CTX *ctx, const void *d, size_t cnt);
	int (*digest_final_ex)(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s);
};

/*
 * The library, loaded on the first call (libcrypto.so.3 as Debian 12
 * ships it, else libcrypto.so) and kept for the process; NULL with the
 * reason in @err when it cannot be loaded.
 */
const struct vhu_crypto *vhu_crypto(char *err, size_t len);

#endif
