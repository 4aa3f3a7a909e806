/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/util/rc.c: the one exit-status table.  Its names are
 * the JSON "exit_status_name", so they are held against the JSON schema
 * the documents are validated with (doc/json/common.schema.json,
 * $defs.exit): the same statuses, the same names, both ways.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "util/rc.h"

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vhu_exit_name(VHU_OK), "success");
	assert_string_equal(vhu_exit_name(VHU_E_PROTO), "protocol_violation");
	assert_string_equal(vhu_exit_name(VHU_E_USAGE), "usage");
	assert_string_equal(vhu_exit_name(VHU_E_CONNECT), "cannot_connect");
	assert_string_equal(vhu_exit_name(128 + SIGINT), "interrupted");
	assert_string_equal(vhu_exit_name(5), "unknown");
	assert_string_equal(vhu_exit_name(-1), "unknown");
}

static void test_table_sane(void **state)
{
	(void)state;
	assert_true(vhu_exit_nstatuses > 0);
	for (size_t i = 0; i < vhu_exit_nstatuses; i++) {
		const struct vhu_exit_status *e = &vhu_exit_statuses[i];

		assert_non_null(e->name);
		assert_non_null(e->text);
		assert_true(e->text[0] != '\0');
		/* Ascending, so each status is there once and --help reads in order. */
		if (i)
			assert_true(vhu_exit_statuses[i - 1].status < e->status);
		/* Names are JSON words. */
		assert_true(strspn(e->name, "abcdefghijklmnopqrstuvwxyz_") == strlen(e->name));
	}
}

/* The name the schema gives @status, or NULL when it has none. */
static const char *schema_name(json_object *oneof, int status)
{
	for (size_t i = 0; i < json_object_array_length(oneof); i++) {
		json_object *props, *st, *name, *v;

		if (!json_object_object_get_ex(json_object_array_get_idx(oneof, i), "properties", &props) ||
		    !json_object_object_get_ex(props, "exit_status", &st) ||
		    !json_object_object_get_ex(props, "exit_status_name", &name) ||
		    !json_object_object_get_ex(name, "const", &name))
			continue;
		if (json_object_object_get_ex(st, "const", &v) && json_object_get_int(v) == status)
			return json_object_get_string(name);
		if (json_object_object_get_ex(st, "enum", &v))
			for (size_t k = 0; k < json_object_array_length(v); k++)
				if (json_object_get_int(json_object_array_get_idx(v, k)) == status)
					return json_object_get_string(name);
	}
	return NULL;
}

static void test_schema_agrees(void **state)
{
	json_object *root = json_object_from_file(VHU_SCHEMA_DIR "/common.schema.json");
	json_object *defs, *exit, *oneof, *all;
	size_t n = 0;

	(void)state;
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "$defs", &defs));
	assert_true(json_object_object_get_ex(defs, "exit", &exit));
	assert_true(json_object_object_get_ex(exit, "oneOf", &oneof));
	assert_true(json_object_object_get_ex(defs, "exit_status", &all));
	assert_true(json_object_object_get_ex(all, "enum", &all));
	for (size_t i = 0; i < vhu_exit_nstatuses; i++) {
		const char *want = schema_name(oneof, vhu_exit_statuses[i].status);

		if (!want)
			fail_msg("exit status %d is not in the schema", vhu_exit_statuses[i].status);
		assert_string_equal(vhu_exit_statuses[i].name, want);
	}
	/* And the schema has no status the table lacks. */
	for (size_t k = 0; k < json_object_array_length(all); k++) {
		int st = json_object_get_int(json_object_array_get_idx(all, k));

		if (!strcmp(vhu_exit_name(st), "unknown"))
			fail_msg("the schema allows exit status %d, the table does not have it", st);
		n++;
	}
	assert_int_equal(n, vhu_exit_nstatuses);
	json_object_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_table_sane),
		cmocka_unit_test(test_schema_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
