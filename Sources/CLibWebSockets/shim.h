#ifndef ROUNDTABLE_LWS_SHIM_H
#define ROUNDTABLE_LWS_SHIM_H
#include <libwebsockets.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

// LWS_PRE is a macro: Swift cannot see it, a function returning it can.
static inline size_t rt_lws_pre(void) { return LWS_PRE; }

// LWS_TO_KILL_ASYNC is a macro too.
static inline int rt_lws_to_kill_async(void) { return LWS_TO_KILL_ASYNC; }

// SSL_OP_* are built by macros; these are the options that refuse anything older than TLS 1.2.
static inline long rt_tls12_minimum_options(void) {
    return (long)(SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
}

#endif
