#ifndef ROUNDTABLE_LWS_SHIM_H
#define ROUNDTABLE_LWS_SHIM_H
#include <libwebsockets.h>

// LWS_PRE is a macro: Swift cannot see it, a function returning it can.
static inline size_t rt_lws_pre(void) { return LWS_PRE; }

// lws_callback_on_writable & friends import fine; these wrap variadic or macro-only helpers.
static inline int rt_lws_is_first_fragment(struct lws *wsi) { return lws_is_first_fragment(wsi); }

#endif
