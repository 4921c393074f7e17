/* Module registration: the functions src/dataplane/io/native.ts declares. */
#include "ferry_io.h"

static napi_value init(napi_env env, napi_value exports)
{
	static const struct {
		const char *name;
		napi_callback fn;
	} F[] = {
		{"afpOpen", afp_open},         {"tunOpen", tun_open},         {"portStart", port_start},
		{"portStop", port_stop},       {"portRelease", port_release}, {"portSend", port_send},
		{"portStats", port_stats},     {"portSetIndex", port_set_index}, {"portClose", port_close},
		{"linkInfo", link_info},       {"linkSetUp", link_set_up},    {"linkSetMtu", link_set_mtu},
		{"featuresGet", features_get}, {"featuresSet", features_set},
	};
	for (size_t i = 0; i < sizeof F / sizeof F[0]; i++) {
		napi_value f;
		if (napi_create_function(env, F[i].name, NAPI_AUTO_LENGTH, F[i].fn, NULL, &f) != napi_ok ||
		    napi_set_named_property(env, exports, F[i].name, f) != napi_ok)
			return NULL;
	}
	napi_value v;
	napi_create_uint32(env, C_COUNT, &v);
	napi_set_named_property(env, exports, "counterCount", v);
	return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
