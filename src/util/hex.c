/* SPDX-License-Identifier: Apache-2.0 */
#include "util/hex.h"

#include <string.h>

static const char digits[] = "0123456789abcdef";

int vhu_hex_digit(int c)
{
	/* Not isxdigit(): the locale must not widen what is accepted. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vhu_hex_byte(const char *s)
{
	int hi = vhu_hex_digit((unsigned char)s[0]), lo;

	if (hi < 0)
		return -1;
	lo = vhu_hex_digit((unsigned char)s[1]);
	return lo < 0 ? -1 : hi << 4 | lo;
}

int vhu_parse_hex(const char *s, uint8_t *buf, size_t max, size_t *len)
{
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (*s) {
		int b;

		if (*s == ' ' || *s == ':' || *s == '-' || *s == ',') {
			s++;
			continue;
		}
		if ((b = vhu_hex_byte(s)) < 0 || n >= max)
			return -1;
		buf[n++] = (uint8_t)b;
		s += 2;
	}
	*len = n;
	return 0;
}

int vhu_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	for (int i = 0; i < 6; i++) {
		int b = vhu_hex_byte(s);

		if (b < 0)
			return -1;
		m[i] = (uint8_t)b;
		s += 2;
		if (i < 5 && *s++ != ':')
			return -1;
	}
	if (*s)
		return -1;
	memcpy(mac, m, sizeof(m));
	return 0;
}

int vhu_parse_uuid(const char *s, uint8_t uuid[16])
{
	size_t len = strlen(s), i = 0;
	int dashes = len == 36;
	unsigned j = 0;
	uint8_t u[16];

	if (len != 36 && len != 32)
		return -1;
	while (i < len) {
		int b;

		if (dashes && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i++] != '-')
				return -1;
			continue;
		}
		if (j >= 16 || (b = vhu_hex_byte(s + i)) < 0)
			return -1;
		u[j++] = (uint8_t)b;
		i += 2;
	}
	if (j != 16)
		return -1;
	memcpy(uuid, u, sizeof(u));
	return 0;
}

void vhu_format_hex(const uint8_t *p, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		*out++ = digits[p[i] >> 4];
		*out++ = digits[p[i] & 0xf];
	}
	*out = '\0';
}

void vhu_format_mac(const uint8_t mac[6], char out[18])
{
	for (int i = 0; i < 6; i++) {
		if (i)
			*out++ = ':';
		*out++ = digits[mac[i] >> 4];
		*out++ = digits[mac[i] & 0xf];
	}
	*out = '\0';
}

void vhu_format_uuid(const uint8_t uuid[16], char out[37])
{
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*out++ = '-';
		*out++ = digits[uuid[i] >> 4];
		*out++ = digits[uuid[i] & 0xf];
	}
	*out = '\0';
}
