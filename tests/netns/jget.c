/* jget PATH: the value at PATH (names joined by dots: "offload.tun_ring")
 * in the JSON on stdin, printed as `jq -r .PATH` prints it: a string raw,
 * a number, true, false or null (null too for a missing name), an object
 * or array indented; nothing for empty input. The tests' polls read one
 * field of a status many times a second, and jq takes some 30 ms of CPU
 * to start on these machines: a poll every 0.1 s cost a third of a CPU.
 * Exit 5 as jq when a name is looked up in something not an object. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shortest form that reads back as the same double, as jq prints it. */
static void print_real(double d)
{
	char buf[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	puts(buf);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: jget PATH < JSON\n", stderr);
		return 2;
	}
	json_error_t err;
	json_t *root = json_loadf(stdin, JSON_DECODE_ANY, &err);
	if (!root) {
		/* jq prints nothing for empty input (a status that did not come). */
		if (err.position == 0 || strstr(err.text, "end of file"))
			return 0;
		fprintf(stderr, "jget: %s at line %d\n", err.text, err.line);
		return 2;
	}
	json_t *v = root;
	char *path = strdup(argv[1]), *save = NULL;
	for (char *name = strtok_r(path, ".", &save); name && v; name = strtok_r(NULL, ".", &save)) {
		if (json_is_null(v))
			break;
		if (!json_is_object(v)) {
			fprintf(stderr, "jget: cannot index %s with \"%s\"\n",
			        json_is_array(v) ? "array" : "a scalar", name);
			return 5;
		}
		v = json_object_get(v, name);
	}
	free(path);
	if (!v || json_is_null(v))
		puts("null");
	else if (json_is_string(v))
		puts(json_string_value(v));
	else if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		print_real(json_real_value(v));
	else if (json_is_boolean(v))
		puts(json_is_true(v) ? "true" : "false");
	else {
		char *s = json_dumps(v, JSON_INDENT(2));
		puts(s ? s : "");
		free(s);
	}
	json_decref(root);
	return 0;
}
