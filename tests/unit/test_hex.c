/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/util/hex.c: the hex, MAC and UUID parsers every
 * layer shares, good and bad input, and their formatters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/hex.h"

static void test_hex_digit(void **state)
{
	(void)state;
	assert_int_equal(vhu_hex_digit('0'), 0);
	assert_int_equal(vhu_hex_digit('9'), 9);
	assert_int_equal(vhu_hex_digit('a'), 10);
	assert_int_equal(vhu_hex_digit('F'), 15);
	assert_int_equal(vhu_hex_digit('g'), -1);
	assert_int_equal(vhu_hex_digit('G'), -1);
	assert_int_equal(vhu_hex_digit(' '), -1);
	assert_int_equal(vhu_hex_digit('\0'), -1);
	assert_int_equal(vhu_hex_digit(0xe9), -1);
	assert_int_equal(vhu_hex_byte("a5"), 0xa5);
	assert_int_equal(vhu_hex_byte("0F"), 0x0f);
	/* Cut short or not hex: never reads past the NUL. */
	assert_int_equal(vhu_hex_byte("a"), -1);
	assert_int_equal(vhu_hex_byte(""), -1);
	assert_int_equal(vhu_hex_byte("x1"), -1);
	assert_int_equal(vhu_hex_byte("1x"), -1);
}

static void test_parse_hex(void **state)
{
	uint8_t b[8];
	size_t n = 99;

	(void)state;
	assert_int_equal(vhu_parse_hex("0a0B", b, sizeof(b), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0x0b);
	assert_int_equal(vhu_parse_hex("0x01 02:03-04,05", b, sizeof(b), &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(vhu_parse_hex("", b, sizeof(b), &n), 0);
	assert_int_equal(n, 0);
	/* Bad input: odd digits, non-hex, a pair split by a separator, too many. */
	n = 99;
	assert_int_equal(vhu_parse_hex("abc", b, sizeof(b), &n), -1);
	assert_int_equal(vhu_parse_hex("zz", b, sizeof(b), &n), -1);
	assert_int_equal(vhu_parse_hex("0 a", b, sizeof(b), &n), -1);
	assert_int_equal(vhu_parse_hex("-1", b, sizeof(b), &n), -1);
	assert_int_equal(vhu_parse_hex("010203", b, 2, &n), -1);
	assert_int_equal(n, 99);
}

static void test_parse_mac(void **state)
{
	uint8_t m[6], keep[6];

	(void)state;
	assert_int_equal(vhu_parse_mac("52:54:00:12:AB:cd", m), 0);
	assert_memory_equal(m, "\x52\x54\x00\x12\xab\xcd", 6);
	memcpy(keep, m, 6);
	/* Bad input leaves @mac alone. */
	assert_int_equal(vhu_parse_mac("", m), -1);
	assert_int_equal(vhu_parse_mac("52:54:00:12:ab", m), -1);
	assert_int_equal(vhu_parse_mac("52:54:00:12:ab:cd:", m), -1);
	assert_int_equal(vhu_parse_mac("52:54:00:12:ab:cd:ef", m), -1);
	assert_int_equal(vhu_parse_mac("52-54-00-12-ab-cd", m), -1);
	assert_int_equal(vhu_parse_mac("5:54:00:12:ab:cd", m), -1);
	assert_int_equal(vhu_parse_mac("52:54:00:12:ab:cg", m), -1);
	assert_int_equal(vhu_parse_mac("525400:12:ab:cd", m), -1);
	assert_int_equal(vhu_parse_mac(" 52:54:00:12:ab:cd", m), -1);
	assert_int_equal(vhu_parse_mac("+2:54:00:12:ab:cd", m), -1);
	assert_memory_equal(m, keep, 6);
}

static void test_parse_uuid(void **state)
{
	static const uint8_t want[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
					  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	uint8_t u[16];

	(void)state;
	assert_int_equal(vhu_parse_uuid("12345678-9abc-def0-0123-456789abcdef", u), 0);
	assert_memory_equal(u, want, 16);
	memset(u, 0, sizeof(u));
	assert_int_equal(vhu_parse_uuid("123456789ABCDEF00123456789ABCDEF", u), 0);
	assert_memory_equal(u, want, 16);
	/* Bad input leaves @uuid alone. */
	assert_int_equal(vhu_parse_uuid("", u), -1);
	assert_int_equal(vhu_parse_uuid("12345678-9abc-def0-0123-456789abcde", u), -1);
	assert_int_equal(vhu_parse_uuid("12345678-9abc-def0-0123-456789abcdef0", u), -1);
	assert_int_equal(vhu_parse_uuid("12345678_9abc-def0-0123-456789abcdef", u), -1);
	assert_int_equal(vhu_parse_uuid("123456789-abc-def0-0123-456789abcdef", u), -1);
	assert_int_equal(vhu_parse_uuid("12345678-9abc-def0-0123-456789abcdeg", u), -1);
	assert_int_equal(vhu_parse_uuid("123456789abcdef0123456789abcdef-", u), -1);
	assert_memory_equal(u, want, 16);
}

static void test_format(void **state)
{
	static const uint8_t b[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
				       0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	char hex[33], mac[18], uuid[37];

	(void)state;
	vhu_format_hex(b, 16, hex);
	assert_string_equal(hex, "123456789abcdef00123456789abcdef");
	vhu_format_hex(b, 0, hex);
	assert_string_equal(hex, "");
	vhu_format_mac(b + 10, mac);
	assert_string_equal(mac, "45:67:89:ab:cd:ef");
	vhu_format_uuid(b, uuid);
	assert_string_equal(uuid, "12345678-9abc-def0-0123-456789abcdef");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_digit), cmocka_unit_test(test_parse_hex),
		cmocka_unit_test(test_parse_mac), cmocka_unit_test(test_parse_uuid),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
