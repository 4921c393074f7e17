/* Small Node-API helpers: errors that carry errno codes, option getters, property setters. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ferry_io.h"

/*
 * Throws an Error with .code (e.g. "EPERM"), .errno, .syscall and .target (the interface or
 * path involved). The TypeScript layer (src/dataplane/io/io-error.ts) turns these into the
 * user-facing messages (missing privilege, missing interface, ...).
 */
napi_value throw_sys_error(napi_env env, const char *syscall, int err, const char *what)
{
	char msg[320];
	const char *name = strerrorname_np(err);
	snprintf(msg, sizeof msg, "%s %s: %s (%s)", syscall, what ? what : "", strerror(err),
		 name ? name : "?");
	napi_value code, m, e, v;
	napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
	napi_create_error(env, code, m, &e);
	napi_create_int32(env, err, &v);
	napi_set_named_property(env, e, "errno", v);
	napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
	napi_set_named_property(env, e, "syscall", v);
	if (what) {
		napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, e, "target", v);
	}
	napi_throw(env, e);
	return NULL;
}

napi_value throw_type_error(napi_env env, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
	return NULL;
}

static int get_prop(napi_env env, napi_value obj, const char *key, napi_value *v, napi_valuetype *t)
{
	if (napi_get_named_property(env, obj, key, v) != napi_ok) return -1;
	if (napi_typeof(env, *v, t) != napi_ok) return -1;
	return 0;
}

/* Reads obj[key] as an integer in [min, max]; absent/undefined gives `def`. 0 ok, -1 thrown. */
int opt_u32(napi_env env, napi_value obj, const char *key, uint32_t def, uint32_t min, uint32_t max,
	    uint32_t *out)
{
	napi_value v;
	napi_valuetype t;
	if (get_prop(env, obj, key, &v, &t)) return -1;
	if (t == napi_undefined || t == napi_null) {
		*out = def;
		return 0;
	}
	double d;
	if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d != (double)(int64_t)d ||
	    d < min || d > max) {
		throw_type_error(env, "option %s must be an integer in [%u, %u]", key, min, max);
		return -1;
	}
	*out = (uint32_t)d;
	return 0;
}

int opt_bool(napi_env env, napi_value obj, const char *key, int def, int *out)
{
	napi_value v;
	napi_valuetype t;
	if (get_prop(env, obj, key, &v, &t)) return -1;
	if (t == napi_undefined || t == napi_null) {
		*out = def;
		return 0;
	}
	bool b;
	if (t != napi_boolean || napi_get_value_bool(env, v, &b) != napi_ok) {
		throw_type_error(env, "option %s must be a boolean", key);
		return -1;
	}
	*out = b;
	return 0;
}

/* 1 = present (copied), 0 = absent, -1 = thrown (not a string, or too long for buf). */
int opt_string(napi_env env, napi_value obj, const char *key, char *buf, size_t len)
{
	napi_value v;
	napi_valuetype t;
	if (get_prop(env, obj, key, &v, &t)) return -1;
	if (t == napi_undefined || t == napi_null) return 0;
	size_t n;
	if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok || n + 1 > len) {
		throw_type_error(env, "option %s must be a string of at most %zu bytes", key, len - 1);
		return -1;
	}
	napi_get_value_string_utf8(env, v, buf, len, &n);
	return 1;
}

/* An interface name: 1..15 bytes (IFNAMSIZ - 1), no '/' or whitespace (see dev_valid_name). */
int get_ifname(napi_env env, napi_value v, char out[16])
{
	size_t n;
	napi_valuetype t;
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_string ||
	    napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok || n == 0 || n > 15) {
		throw_type_error(env, "interface name must be a string of 1 to 15 bytes");
		return -1;
	}
	napi_get_value_string_utf8(env, v, out, 16, &n);
	for (size_t i = 0; i < n; i++) {
		if (out[i] == '/' || out[i] == ':' || out[i] <= ' ') {
			throw_type_error(env, "invalid interface name \"%s\"", out);
			return -1;
		}
	}
	return 0;
}

int typed_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *len)
{
	bool is;
	napi_typedarray_type t;
	if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
	    napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) != napi_ok || t != type)
		return -1;
	return 0;
}

int set_value(napi_env env, napi_value obj, const char *key, napi_value v)
{
	return napi_set_named_property(env, obj, key, v) == napi_ok ? 0 : -1;
}

int set_u32(napi_env env, napi_value obj, const char *key, uint32_t v)
{
	napi_value x;
	if (napi_create_uint32(env, v, &x) != napi_ok) return -1;
	return set_value(env, obj, key, x);
}

int set_bool(napi_env env, napi_value obj, const char *key, int v)
{
	napi_value x;
	if (napi_get_boolean(env, v != 0, &x) != napi_ok) return -1;
	return set_value(env, obj, key, x);
}

int set_string(napi_env env, napi_value obj, const char *key, const char *v)
{
	napi_value x;
	if (napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &x) != napi_ok) return -1;
	return set_value(env, obj, key, x);
}
