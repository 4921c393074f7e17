/*
 * Offload features by name, through the SIOCETHTOOL ioctl (what `ethtool -k/-K` does):
 * ETHTOOL_GSSET_INFO + ETHTOOL_GSTRINGS(ETH_SS_FEATURES) give the feature names and their bit
 * numbers, ETHTOOL_GFEATURES the state, ETHTOOL_SFEATURES changes it. The kernel silently
 * leaves features that are not changeable on this device (not in hw_features) and says so with
 * ETHTOOL_F_UNSUPPORTED, so the caller reads the state back instead of trusting the request.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry_io.h"

struct features {
	uint32_t count;
	char *names; /* count * ETH_GSTRING_LEN */
	struct ethtool_gfeatures *state;
};

static int ethtool(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? errno : 0;
}

static void features_free(struct features *f)
{
	free(f->names);
	free(f->state);
}

static int features_read_state(int fd, const char *ifname, struct features *f)
{
	uint32_t blocks = (f->count + 31) / 32;
	free(f->state);
	f->state = calloc(1, sizeof *f->state + blocks * sizeof f->state->features[0]);
	if (!f->state) return ENOMEM;
	f->state->cmd = ETHTOOL_GFEATURES;
	f->state->size = blocks;
	return ethtool(fd, ifname, f->state);
}

static int features_read(int fd, const char *ifname, struct features *f)
{
	memset(f, 0, sizeof *f);
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} sset = {.hdr = {.cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES}};
	int e = ethtool(fd, ifname, &sset);
	if (e) return e;
	f->count = sset.hdr.sset_mask ? sset.len : 0;
	struct ethtool_gstrings *gs = calloc(1, sizeof *gs + (size_t)f->count * ETH_GSTRING_LEN);
	if (!gs) return ENOMEM;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = f->count;
	e = ethtool(fd, ifname, gs);
	if (!e) {
		f->names = malloc((size_t)f->count * ETH_GSTRING_LEN);
		if (!f->names) e = ENOMEM;
		else memcpy(f->names, gs->data, (size_t)f->count * ETH_GSTRING_LEN);
	}
	free(gs);
	return e ? e : features_read_state(fd, ifname, f);
}

static int bit(const uint32_t word, uint32_t i) { return (word >> (i % 32)) & 1; }

static napi_value features_object(napi_env env, const struct features *f)
{
	napi_value o, x;
	napi_create_object(env, &o);
	for (uint32_t i = 0; i < f->count; i++) {
		char name[ETH_GSTRING_LEN + 1];
		memcpy(name, f->names + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = 0;
		if (!name[0]) continue;
		const struct ethtool_get_features_block *b = &f->state->features[i / 32];
		napi_create_object(env, &x);
		set_bool(env, x, "active", bit(b->active, i));
		set_bool(env, x, "requested", bit(b->requested, i));
		set_bool(env, x, "changeable", bit(b->available, i));
		set_value(env, o, name, x);
	}
	return o;
}

static int feature_index(const struct features *f, const char *name)
{
	for (uint32_t i = 0; i < f->count; i++)
		if (!strncmp(f->names + (size_t)i * ETH_GSTRING_LEN, name, ETH_GSTRING_LEN)) return (int)i;
	return -1;
}

/* Opens an AF_INET socket in `ns` and reads the feature table of `name` (throws on error). */
static int open_and_read(napi_env env, napi_value ns, const char *name, int *fd, struct features *f)
{
	struct netns_guard g;
	if (netns_enter(env, ns, &g)) return -1;
	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int e = *fd < 0 ? errno : 0;
	netns_leave(&g);
	if (e) return throw_sys_error(env, "socket(AF_INET)", e, name), -1;
	e = features_read(*fd, name, f);
	if (e) {
		close(*fd);
		features_free(f);
		return throw_sys_error(env, "SIOCETHTOOL(ETHTOOL_GFEATURES)", e, name), -1;
	}
	return 0;
}

/* featuresGet(name[, netns]) -> { "<feature>": { active, requested, changeable } } */
napi_value features_get(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2] = {NULL, NULL};
	char name[16];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 || get_ifname(env, argv[0], name)) return NULL;
	int fd;
	struct features f;
	if (open_and_read(env, argc > 1 ? argv[1] : NULL, name, &fd, &f)) return NULL;
	close(fd);
	napi_value o = features_object(env, &f);
	features_free(&f);
	return o;
}

/* featuresSet(name, { "<feature>": boolean, ... }[, netns]) -> state after the change */
napi_value features_set(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3] = {NULL, NULL, NULL};
	char name[16];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 2 || get_ifname(env, argv[0], name)) return NULL;
	int fd;
	struct features f;
	if (open_and_read(env, argc > 2 ? argv[2] : NULL, name, &fd, &f)) return NULL;
	uint32_t blocks = (f.count + 31) / 32;
	struct ethtool_sfeatures *sf = calloc(1, sizeof *sf + blocks * sizeof sf->features[0]);
	napi_value keys, result = NULL;
	uint32_t nkeys = 0;
	if (!sf) {
		throw_sys_error(env, "calloc", ENOMEM, name);
		goto out;
	}
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = blocks;
	napi_get_property_names(env, argv[1], &keys);
	napi_get_array_length(env, keys, &nkeys);
	for (uint32_t k = 0; k < nkeys; k++) {
		napi_value key, val;
		char feat[ETH_GSTRING_LEN + 1];
		size_t n;
		bool on;
		napi_get_element(env, keys, k, &key);
		napi_get_value_string_utf8(env, key, feat, sizeof feat, &n);
		int i = feature_index(&f, feat);
		if (i < 0) {
			throw_type_error(env, "%s has no offload feature \"%s\" (see `ethtool -k %s`)", name, feat, name);
			goto out;
		}
		napi_get_property(env, argv[1], key, &val);
		if (napi_get_value_bool(env, val, &on) != napi_ok) {
			throw_type_error(env, "feature %s: value must be a boolean", feat);
			goto out;
		}
		sf->features[i / 32].valid |= 1u << (i % 32);
		if (on) sf->features[i / 32].requested |= 1u << (i % 32);
	}
	if (nkeys) {
		int e = ethtool(fd, name, sf);
		if (e) {
			throw_sys_error(env, "SIOCETHTOOL(ETHTOOL_SFEATURES)", e, name);
			goto out;
		}
	}
	int e = features_read_state(fd, name, &f);
	if (e) {
		throw_sys_error(env, "SIOCETHTOOL(ETHTOOL_GFEATURES)", e, name);
		goto out;
	}
	result = features_object(env, &f);
out:
	free(sf);
	features_free(&f);
	close(fd);
	return result;
}
