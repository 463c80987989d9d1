#ifndef ROUNDTABLE_LIBEV_SHIM_H
#define ROUNDTABLE_LIBEV_SHIM_H
// libev (Debian libev-dev): the server creates the loop that lws' evlib_ev plugin joins as a "foreign" loop,
// so the service thread can run it one pass at a time (ev_run with EVRUN_ONCE) like lws_service.
#include <ev.h>

static inline struct ev_loop *rt_ev_loop_new(void) { return ev_loop_new(EVFLAG_AUTO); }
static inline int rt_ev_run_once(struct ev_loop *loop) { return ev_run(loop, EVRUN_ONCE); }
static inline void rt_ev_loop_destroy(struct ev_loop *loop) { ev_loop_destroy(loop); }
static inline unsigned int rt_ev_backend(struct ev_loop *loop) { return ev_backend(loop); }
#endif
