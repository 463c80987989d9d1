/*
 * The honest floor for Roundtable's broadcast numbers (issue 20, part 4): a minimal C libwebsockets
 * server that does per broadcast exactly what Roundtable's transport does per results round, and
 * nothing else (no JSON, no rooms, no journal):
 *   - every text or binary message received on any path goes to every open connection (sender included),
 *   - the outgoing frame is encoded once and shared by reference between the recipients' queues,
 *   - one lws_write per WRITEABLE carries every queued frame that fits in 32 KiB, each framed here and
 *     written as LWS_WRITE_HTTP (lws passes the bytes through), re-armed while more is queued,
 *   - the same context settings: 1,004-byte rx buffer, 256 KiB tx_packet_size, no lws validity timers, UTF-8
 *     validation.
 * So "Roundtable / floor" is the cost of everything Roundtable adds, not of a different write strategy.
 * FLOOR_HOLD=1 (an experiment, off by default): messages received in a pass are broadcast after the pass, as
 * Roundtable releases a broadcast once its journal batch is durable (BENCHMARKS.md: it did not change how many
 * frames the floor gathers per send).
 *
 *   gcc -O2 -Wall -o lws_floor lws_floor.c -lwebsockets && ./lws_floor PORT
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_CAP 1024            /* frames queued per connection before new ones are dropped */
#define COALESCE_BYTES (32 * 1024) /* Roundtable's Server.coalesceBytes */

struct frame {
    int refs;
    size_t len;
    unsigned char bytes[]; /* header + payload */
};

struct session {
    struct session *prev, *next;
    struct lws *wsi;
    struct frame *queue[QUEUE_CAP];
    unsigned head, count;
    unsigned char *rx; /* reassembly of a message that arrives in several RECEIVE callbacks */
    size_t rx_len, rx_cap;
};

static struct session *sessions;
static unsigned char *write_buffer;
static size_t write_capacity;
static long dropped;
static volatile sig_atomic_t interrupted;
static int hold_until_pass_end; /* FLOOR_HOLD */
struct pending { struct pending *next; size_t n; int binary; unsigned char bytes[]; };
static struct pending *pending_head, **pending_tail = &pending_head;

static void release(struct frame *f) {
    if (--f->refs == 0) free(f);
}

static struct frame *encode(const unsigned char *payload, size_t n, int binary) {
    size_t header = n < 126 ? 2 : n < 65536 ? 4 : 10;
    struct frame *f = malloc(sizeof *f + header + n);
    if (!f) return NULL;
    f->refs = 0;
    f->len = header + n;
    f->bytes[0] = 0x80 | (binary ? 2 : 1); /* FIN + opcode; server frames are unmasked */
    if (header == 2) {
        f->bytes[1] = (unsigned char)n;
    } else if (header == 4) {
        f->bytes[1] = 126;
        f->bytes[2] = (unsigned char)(n >> 8);
        f->bytes[3] = (unsigned char)n;
    } else {
        f->bytes[1] = 127;
        for (int i = 0; i < 8; i++) f->bytes[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    }
    memcpy(f->bytes + header, payload, n);
    return f;
}

static void broadcast(const unsigned char *payload, size_t n, int binary) {
    struct frame *f = encode(payload, n, binary);
    if (!f) return;
    f->refs = 1; /* held while queuing */
    for (struct session *s = sessions; s; s = s->next) {
        if (s->count == QUEUE_CAP) {
            dropped++;
            continue;
        }
        f->refs++;
        s->queue[(s->head + s->count) % QUEUE_CAP] = f;
        s->count++;
        lws_callback_on_writable(s->wsi);
    }
    release(f);
}

static void deliver(const unsigned char *payload, size_t n, int binary) {
    if (!hold_until_pass_end) { broadcast(payload, n, binary); return; }
    struct pending *p = malloc(sizeof *p + n);
    if (!p) return;
    p->next = NULL; p->n = n; p->binary = binary; memcpy(p->bytes, payload, n);
    *pending_tail = p; pending_tail = &p->next;
}

static void release_pending(void) {
    struct pending *p = pending_head;
    pending_head = NULL; pending_tail = &pending_head;
    while (p) { struct pending *next = p->next; broadcast(p->bytes, p->n, p->binary); free(p); p = next; }
}

static int writeable(struct session *s) {
    size_t used = 0;
    while (s->count) {
        struct frame *f = s->queue[s->head];
        if (used > 0 && used + f->len > COALESCE_BYTES) break;
        if (LWS_PRE + used + f->len > write_capacity) {
            size_t cap = (LWS_PRE + used + f->len) * 2;
            unsigned char *grown = realloc(write_buffer, cap);
            if (!grown) return -1;
            write_buffer = grown;
            write_capacity = cap;
        }
        memcpy(write_buffer + LWS_PRE + used, f->bytes, f->len);
        used += f->len;
        release(f);
        s->head = (s->head + 1) % QUEUE_CAP;
        s->count--;
    }
    if (used == 0) return 0;
    if (lws_write(s->wsi, write_buffer + LWS_PRE, used, LWS_WRITE_HTTP) < (int)used) return -1;
    if (s->count) lws_callback_on_writable(s->wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct session *s = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof *s);
        s->wsi = wsi;
        s->next = sessions;
        if (sessions) sessions->prev = s;
        sessions = s;
        break;
    case LWS_CALLBACK_CLOSED:
        if (s->prev) s->prev->next = s->next; else if (sessions == s) sessions = s->next;
        if (s->next) s->next->prev = s->prev;
        while (s->count) {
            release(s->queue[s->head]);
            s->head = (s->head + 1) % QUEUE_CAP;
            s->count--;
        }
        free(s->rx);
        s->rx = NULL;
        break;
    case LWS_CALLBACK_RECEIVE: {
        int whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
        if (whole && s->rx_len == 0) { /* the common case: no copy */
            deliver(in, len, lws_frame_is_binary(wsi));
            break;
        }
        if (s->rx_len + len > s->rx_cap) {
            size_t cap = (s->rx_len + len) * 2;
            unsigned char *grown = realloc(s->rx, cap);
            if (!grown) return -1;
            s->rx = grown;
            s->rx_cap = cap;
        }
        memcpy(s->rx + s->rx_len, in, len);
        s->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            deliver(s->rx, s->rx_len, lws_frame_is_binary(wsi));
            s->rx_len = 0;
        }
        break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(s);
    default:
        break;
    }
    return 0;
}

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv) {
    struct lws_protocols protocols[2];
    memset(protocols, 0, sizeof protocols);
    protocols[0].name = "floor";
    protocols[0].callback = callback;
    protocols[0].per_session_data_size = sizeof(struct session);
    protocols[0].rx_buffer_size = 1024 - LWS_PRE - 4;
    /* As Roundtable does (Server+Context.swift): without it lws 4.1.6 caps every send at rx_buffer_size + LWS_PRE
     * + 4 = 1 KiB and buffers the rest for later POLLOUT passes, so a coalesced write of 16 frames took two. */
    protocols[0].tx_packet_size = 256 * 1024;

    lws_retry_bo_t no_validity_timers;
    memset(&no_validity_timers, 0, sizeof no_validity_timers);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = argc > 1 ? atoi(argv[1]) : 7681;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.retry_and_idle_policy = &no_validity_timers;
    info.timeout_secs = 20;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context *context = lws_create_context(&info);
    if (!context) return 1;
    int n = 0;
    hold_until_pass_end = getenv("FLOOR_HOLD") != NULL;
    while (n >= 0 && !interrupted) {
        n = lws_service(context, 0);
        release_pending();
    }
    lws_context_destroy(context);
    free(write_buffer);
    if (dropped) lwsl_warn("dropped %ld frames (queue full)\n", dropped);
    return 0;
}
