/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hex digits, MAC addresses and UUIDs: the one set of parsers and
 * formatters every layer uses.  Parsers are strict (whole string, no
 * sign, no spaces unless said) and return 0 or -1; nothing prints.
 * Output buffers are the caller's, sized as each function says.
 */
#ifndef VHU_UTIL_HEX_H
#define VHU_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit @c (either case), or -1. */
int vhu_hex_digit(int c);

/* The byte two hex digits at @s spell, or -1 (also when @s ends early). */
int vhu_hex_byte(const char *s);

/* Hex bytes ("0a0b", "0x0a0b", "0a 0b", "0a:0b", "0a-0b", "0a,0b"): pairs
 * of digits, separators between pairs ignored; at most @max bytes into
 * @buf, their number in *@len. */
int vhu_parse_hex(const char *s, uint8_t *buf, size_t max, size_t *len);

/* A MAC address, exactly "aa:bb:cc:dd:ee:ff" (hex digits of either case). */
int vhu_parse_mac(const char *s, uint8_t mac[6]);

/* A UUID, "8-4-4-4-12" hex digits with dashes or the 32 digits alone;
 * text order is RFC 4122 byte order, so the bytes are not swapped. */
int vhu_parse_uuid(const char *s, uint8_t uuid[16]);

/* Lowercase hex of @len bytes into @out (2 * @len + 1 bytes). */
void vhu_format_hex(const uint8_t *p, size_t len, char *out);

/* "aa:bb:cc:dd:ee:ff" into @out. */
void vhu_format_mac(const uint8_t mac[6], char out[18]);

/* "8-4-4-4-12" lowercase into @out. */
void vhu_format_uuid(const uint8_t uuid[16], char out[37]);

#endif
