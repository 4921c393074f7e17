/*
 * Open a socket / TUN device inside another network namespace.
 *
 * setns(2) with CLONE_NEWNET moves only the calling thread; a socket keeps the namespace it was
 * created in for its whole life (network_namespaces(7)), and a TUN device is created in the
 * namespace of the thread that issues TUNSETIFF. So: enter, open, leave, all synchronously on
 * the JS thread, which runs nothing else in between. Needs CAP_SYS_ADMIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry_io.h"

/* `nsname`: undefined/null = stay; a name = /run/netns/<name> (ip-netns(8)); a path with '/'. */
int netns_enter(napi_env env, napi_value nsname, struct netns_guard *g)
{
	g->self_fd = -1;
	napi_valuetype t;
	if (nsname == NULL || napi_typeof(env, nsname, &t) != napi_ok || t == napi_undefined || t == napi_null)
		return 0;
	char name[256], path[300];
	size_t n;
	if (t != napi_string || napi_get_value_string_utf8(env, nsname, name, sizeof name, &n) != napi_ok || n == 0 ||
	    n >= sizeof name - 1) {
		throw_type_error(env, "netns must be a namespace name or a path");
		return -1;
	}
	if (strchr(name, '/'))
		snprintf(path, sizeof path, "%s", name);
	else
		snprintf(path, sizeof path, "/run/netns/%s", name);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		throw_sys_error(env, "open netns", errno, path);
		return -1;
	}
	g->self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (g->self_fd < 0) {
		int e = errno;
		close(target);
		throw_sys_error(env, "open", e, "/proc/thread-self/ns/net");
		return -1;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		int e = errno;
		close(target);
		close(g->self_fd);
		g->self_fd = -1;
		throw_sys_error(env, "setns", e, path);
		return -1;
	}
	close(target);
	return 0;
}

void netns_leave(struct netns_guard *g)
{
	if (g->self_fd < 0) return;
	if (setns(g->self_fd, CLONE_NEWNET) < 0) {
		/* The JS thread would keep running in the wrong namespace: never continue. */
		perror("ferry_io: cannot return to the original network namespace");
		abort();
	}
	close(g->self_fd);
	g->self_fd = -1;
}
