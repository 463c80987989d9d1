/*
 * rtbench — compiled load generator for Roundtable and its peers.
 *
 * One single-threaded epoll loop speaking raw WebSocket (RFC 6455, client side:
 * masked text frames out, unmasked frames in, no extensions). Chosen over the lws
 * client API because it keeps per-connection cost at a few hundred bytes and never
 * hides where the generator's own time goes; the generator reports its own CPU so a
 * client-bound run is visible.
 *
 * Scenarios (each bounded in time, progress on stderr, one JSON object to --out):
 *   idle    N members join rooms of --room-size and stay connected; server RSS per member.
 *   idleraw N plain WebSocket connections (peers): server RSS per connection.
 *   votes   M members in one room cast/change ranking ballots at --rate votes/s.
 *   fanout  room of M members, one vote per round; vote -> last poll.results delivery.
 *   churn   members drop and resume (token + since) or leave and rejoin at --rate ops/s.
 *   launch  M members join ONE room at --rate joins/s (0: flat out, --concurrency in flight), as in the
 *           first seconds of a virtual launch event; join ack latency, server CPU over the joins, and
 *           messages each joiner receives until --hold seconds after the last join.
 *   bcast   M receivers; one sender broadcasts --msgs messages with --window in flight.
 *           --mode rt (room.announce or member.update), mirror (lws-mirror-protocol),
 *           plain (any server that relays each message to every client).
 *
 * Build: gcc -O2 -o rtbench rtbench.c -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---------- options ---------- */
static const char *o_host = "127.0.0.1", *o_path = "/ws", *o_proto = NULL, *o_out = NULL, *o_mode = "rt";
static const char *o_label = "";
static int o_port = 0, o_spid = 0;
static int o_members = 1000, o_room_size = 100, o_conc = 200, o_inflight = 16, o_rounds = 30;
static int o_msgs = 200, o_window = 4, o_payload = 64, o_gap_ms = 400, o_rooms = 0;
static double o_rate = 1000, o_duration = 10, o_warmup = 2, o_hold = 5, o_setup_timeout = 300, o_leave_frac = 0.1;
static int o_result_ms = 250;

/* ---------- time ---------- */
static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
static uint64_t t0_ns;
static double secs(void) { return (now_ns() - t0_ns) / 1e9; }
static void logf_(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[rtbench %6.1fs] ", secs());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[rtbench] FATAL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ---------- server/self process stats ---------- */
static double proc_cpu_s(int pid) { /* utime+stime of the whole process (all threads) */
    if (pid <= 0) return 0;
    char p[64], b[2048];
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    size_t n = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    b[n] = 0;
    char *s = strrchr(b, ')');
    if (!s) return 0;
    unsigned long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}
static long proc_rss_kib(int pid) {
    if (pid <= 0) return 0;
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", pid);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) { kb = atol(line + 6); break; }
    fclose(f);
    return kb;
}
static double self_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---------- latency samples ---------- */
typedef struct { double *v; size_t n, cap; } samples;
static void sample_add(samples *s, double x) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = realloc(s->v, s->cap * sizeof(double));
    }
    s->v[s->n++] = x;
}
static int dcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(samples *s, double p) {
    if (!s->n) return -1;
    qsort(s->v, s->n, sizeof(double), dcmp);
    size_t i = (size_t)ceil(p / 100.0 * s->n);
    if (i > 0) i--;
    if (i >= s->n) i = s->n - 1;
    return s->v[i];
}

/* ---------- connections ---------- */
enum { ST_FREE, ST_CONNECTING, ST_HS, ST_OPEN, ST_CLOSED };
enum { R_FAC = 1, R_MEMBER = 2 };
typedef struct conn {
    int fd, idx;
    uint8_t st, role, joined, wantout, ours_closing, resuming;
    int room;          /* room index */
    int inflight;      /* votes outstanding */
    int last_round;    /* fan-out round last seen */
    int64_t seq;       /* last room event seq seen (for resume) */
    int64_t last_msg;  /* bcast: highest message id seen */
    uint64_t op_start; /* churn: when the drop/leave began */
    char token[48];
    char *rb; int rlen, rcap;
    char *wb; int wlen, wcap;
    char *fb; int flen, fcap;
} conn;

typedef struct { char code[16]; char key[64]; int fac; int count; int ready; } room_t;

static int ep;
static conn *conns;
static int nconns_cap, nconns; /* slots used */
static room_t *rooms;
static int nrooms;
static struct sockaddr_in srv;

/* counters */
static long c_opened, c_open, c_joined, c_errors, c_dropped, c_connfail, c_msgs_in, c_bytes_in;
static long c_unknown_type;
static long c_msgs_members; /* launch: messages received by members (not facilitators) */
static char first_error[512];

static void on_open(conn *c);
static void on_message(conn *c, char *p, int n);
static void on_closed(conn *c);

static void ep_set(conn *c, int out) {
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl mod: %s", strerror(errno));
    c->wantout = out;
}

static conn *open_conn(int role, int room) {
    conn *c = NULL;
    if (nconns == nconns_cap) die("connection table full (%d)", nconns_cap);
    c = &conns[nconns];
    memset(c, 0, sizeof *c);
    c->idx = nconns++;
    c->role = role;
    c->room = room;
    c->last_round = -1;
    c->last_msg = -1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket: %s (raise ulimit -n)", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct linger lg = {1, 0}; /* our closes are resets: no TIME_WAIT pile-up during churn */
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(c->fd, (struct sockaddr *)&srv, sizeof srv) < 0 && errno != EINPROGRESS)
        die("connect: %s", strerror(errno));
    c->st = ST_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->wantout = 1;
    c_opened++;
    return c;
}

/* Re-use a slot for a new connection (churn). */
static void reopen_conn(conn *c) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(fd, (struct sockaddr *)&srv, sizeof srv) < 0 && errno != EINPROGRESS) die("connect: %s", strerror(errno));
    c->fd = fd;
    c->st = ST_CONNECTING;
    c->rlen = c->wlen = c->flen = 0;
    c->joined = 0;
    c->ours_closing = 0;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->wantout = 1;
    c_opened++;
}

static void close_conn(conn *c, int ours) {
    if (c->st == ST_CLOSED || c->st == ST_FREE) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->st == ST_OPEN) c_open--;
    c->st = ST_CLOSED;
    c->ours_closing = ours;
    if (!ours) on_closed(c);
}

static void raw_send(conn *c, const char *p, int n) {
    if (c->st == ST_CLOSED) return;
    if (c->wlen == 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w == n) return;
        if (w < 0) {
            if (errno != EAGAIN) { close_conn(c, 0); return; }
            w = 0;
        }
        p += w;
        n -= w;
    }
    if (c->wlen + n > c->wcap) {
        c->wcap = (c->wlen + n) * 2;
        c->wb = realloc(c->wb, c->wcap);
    }
    memcpy(c->wb + c->wlen, p, n);
    c->wlen += n;
    if (!c->wantout) ep_set(c, 1);
}

static uint32_t mask_state = 0x9e3779b9;
static void ws_send_op(conn *c, int op, const char *msg, int n) {
    char hdr[14];
    int h = 0;
    hdr[h++] = (char)(0x80 | op);
    if (n < 126) hdr[h++] = (char)(0x80 | n);
    else if (n < 65536) { hdr[h++] = (char)(0x80 | 126); hdr[h++] = n >> 8; hdr[h++] = n & 255; }
    else {
        hdr[h++] = (char)(0x80 | 127);
        for (int i = 7; i >= 0; i--) hdr[h++] = (char)(((uint64_t)n >> (8 * i)) & 255);
    }
    mask_state = mask_state * 1664525u + 1013904223u;
    uint8_t mk[4];
    memcpy(mk, &mask_state, 4);
    memcpy(hdr + h, mk, 4);
    h += 4;
    char stackbuf[2048];
    char *buf = (h + n <= (int)sizeof stackbuf) ? stackbuf : malloc(h + n);
    memcpy(buf, hdr, h);
    for (int i = 0; i < n; i++) buf[h + i] = msg[i] ^ mk[i & 3];
    raw_send(c, buf, h + n);
    if (buf != stackbuf) free(buf);
}
static void ws_send(conn *c, const char *msg, int n) { ws_send_op(c, 1, msg, n); }
static void ws_sendf(conn *c, const char *fmt, ...) {
    char b[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    ws_send(c, b, n);
}

static void send_handshake(conn *c) {
    char b[512];
    int n = snprintf(b, sizeof b,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     o_path, o_host, o_port, o_proto ? "Sec-WebSocket-Protocol: " : "", o_proto ? o_proto : "",
                     o_proto ? "\r\n" : "");
    raw_send(c, b, n);
}

static void handle_frame(conn *c, int fin, int op, char *p, int n) {
    if (op == 9) { ws_send_op(c, 10, p, n); return; }
    if (op == 10) return;
    if (op == 8) { close_conn(c, 0); return; }
    if (op == 0 || !fin) { /* fragmented message */
        if (c->flen + n + 1 > c->fcap) {
            c->fcap = (c->flen + n + 1) * 2;
            c->fb = realloc(c->fb, c->fcap);
        }
        memcpy(c->fb + c->flen, p, n);
        c->flen += n;
        if (!fin) return;
        c->fb[c->flen] = 0;
        c_msgs_in++;
        if (c->role == R_MEMBER) c_msgs_members++;
        on_message(c, c->fb, c->flen);
        c->flen = 0;
        return;
    }
    c_msgs_in++;
    if (c->role == R_MEMBER) c_msgs_members++;
    char save = p[n];
    p[n] = 0;
    on_message(c, p, n);
    if (c->st == ST_OPEN) p[n] = save;
}

static void do_read(conn *c) {
    if (c->rcap - c->rlen < 16384 + 1) {
        c->rcap = c->rcap ? c->rcap * 2 : 32768;
        if (c->rcap < c->rlen + 16385) c->rcap = c->rlen + 16385;
        c->rb = realloc(c->rb, c->rcap);
    }
    ssize_t r = recv(c->fd, c->rb + c->rlen, c->rcap - c->rlen - 1, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN)) { close_conn(c, 0); return; }
    if (r < 0) return;
    c_bytes_in += r;
    c->rlen += r;
    int off = 0;
    if (c->st == ST_HS) {
        c->rb[c->rlen] = 0;
        char *e = memmem(c->rb, c->rlen, "\r\n\r\n", 4);
        if (!e) return;
        if (strncmp(c->rb, "HTTP/1.1 101", 12)) {
            c_connfail++;
            if (!first_error[0]) snprintf(first_error, sizeof first_error, "handshake: %.200s", c->rb);
            close_conn(c, 1);
            on_closed(c);
            return;
        }
        off = (int)(e + 4 - c->rb);
        c->st = ST_OPEN;
        c_open++;
        on_open(c);
        if (c->st != ST_OPEN) return;
    }
    for (;;) {
        int avail = c->rlen - off;
        if (avail < 2) break;
        uint8_t *h = (uint8_t *)c->rb + off;
        int fin = h[0] >> 7, op = h[0] & 15, masked = h[1] >> 7;
        uint64_t len = h[1] & 127;
        int hl = 2;
        if (len == 126) {
            if (avail < 4) break;
            len = (h[2] << 8) | h[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | h[2 + i];
            hl = 10;
        }
        if (masked) hl += 4;
        if ((uint64_t)avail < hl + len) {
            if ((uint64_t)c->rcap < hl + len + 16385) { /* grow for a big message (room.state) */
                if (hl + len > (64u << 20)) die("message of %llu bytes", (unsigned long long)len);
                memmove(c->rb, c->rb + off, avail);
                c->rlen = avail;
                off = 0;
                c->rcap = (int)(hl + len + 16385);
                c->rb = realloc(c->rb, c->rcap);
            }
            break;
        }
        handle_frame(c, fin, op, c->rb + off + hl, (int)len);
        if (c->st != ST_OPEN) return;
        off += hl + (int)len;
    }
    if (off) {
        memmove(c->rb, c->rb + off, c->rlen - off);
        c->rlen -= off;
    }
    /* give idle connections their memory back */
    if (c->rlen == 0 && c->rcap > 65536) {
        free(c->rb);
        c->rb = NULL;
        c->rcap = 0;
    }
}

static void do_write(conn *c) {
    if (c->st == ST_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            c_connfail++;
            if (!first_error[0]) snprintf(first_error, sizeof first_error, "connect: %s", strerror(err));
            close_conn(c, 1);
            on_closed(c);
            return;
        }
        c->st = ST_HS;
        ep_set(c, 0);
        send_handshake(c);
        return;
    }
    if (c->wlen) {
        ssize_t w = send(c->fd, c->wb, c->wlen, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN) close_conn(c, 0);
            return;
        }
        memmove(c->wb, c->wb + w, c->wlen - w);
        c->wlen -= w;
    }
    if (!c->wlen) ep_set(c, 0);
}

/* ---------- tiny JSON helpers (the server's output is compact and ordered: {"type":"..","ref":..}) ---------- */
static int msg_type_is(const char *p, const char *t) {
    if (strncmp(p, "{\"type\":\"", 9)) return 0;
    size_t l = strlen(t);
    return !strncmp(p + 9, t, l) && p[9 + l] == '"';
}
static int get_str(const char *p, const char *key, char *out, int cap) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":\"", key);
    const char *s = strstr(p, k);
    if (!s) return 0;
    s += strlen(k);
    int i = 0;
    while (s[i] && s[i] != '"' && i < cap - 1) { out[i] = s[i]; i++; }
    out[i] = 0;
    return 1;
}
static int get_int(const char *p, const char *key, int64_t *out) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *s = strstr(p, k);
    if (!s) return 0;
    s += strlen(k);
    if (*s == '"' || !(*s == '-' || (*s >= '0' && *s <= '9'))) return 0;
    *out = strtoll(s, NULL, 10);
    return 1;
}
/* ref of an ack/error: right after type */
static int get_ref(const char *p, int64_t *ref, char *sref, int cap) {
    const char *s = strstr(p, "\"ref\":");
    if (!s) return 0;
    s += 6;
    if (*s == '"') {
        s++;
        int i = 0;
        while (s[i] && s[i] != '"' && i < cap - 1) { sref[i] = s[i]; i++; }
        sref[i] = 0;
        *ref = -1;
        return 2;
    }
    *ref = strtoll(s, NULL, 10);
    return 1;
}
static void note_error(conn *c, const char *p) {
    c_errors++;
    if (strstr(p, "\"unknown_type\"")) c_unknown_type++;
    if (!first_error[0]) snprintf(first_error, sizeof first_error, "conn %d: %.400s", c->idx, p);
}

/* ---------- scenario state ---------- */
static const char *scenario;
enum { PH_ROOMS, PH_JOIN, PH_POLL, PH_RUN, PH_DONE };
static int phase = PH_ROOMS;
static int n_members_target, setup_inflight;
static int poll_id = 0, poll_pending = 0;
static uint64_t setup_t0, setup_t1, run_t0;

/* votes */
static const char *perms[24];
static int64_t vote_ref = 0;
static uint64_t *vote_sent_ns; static size_t vote_sent_cap;
static samples lat_ack;
static long v_offered, v_sent, v_acked, v_acked_win, v_shed, v_errs;
static uint64_t win_t0, win_t1;
static double srv_cpu0, srv_cpu1, self_cpu0, self_cpu1;
static int rr_next = 0;
static long results_msgs = 0;

/* fanout */
static int round_no = -1, round_count = 0, rounds_done = 0, rounds_timeout = 0;
static uint64_t round_t0, round_first, round_last, round_ack, next_round_at;
static samples lat_last, lat_first, lat_ackf, rate_round;
/* the same latencies in round order (pct() sorts its samples in place): one slow round can be told from a slow start */
static samples seq_last, seq_first;
static long missing_total = 0;

/* bcast */
static int64_t b_next = 0, b_done = 0;
static int *b_count; static uint64_t *b_sent;
static long b_deliveries = 0, b_bytes = 0;
static samples lat_bcast;
static conn *b_sender;
static int b_receivers = 0;
static int b_use_update = 0, b_probe = 0;
static uint64_t b_t0, b_t1;
static double b_srv0, b_srv1, b_self0, b_self1;
static int b_active = 0;

/* churn */
static long ch_ops = 0, ch_resumes = 0, ch_leaves = 0, ch_joins_win = 0, ch_events = 0, ch_states = 0;
static samples lat_join;


static void send_join(conn *c) {
    room_t *r = &rooms[c->room];
    if (c->resuming && c->token[0])
        ws_sendf(c, "{\"type\":\"room.join\",\"ref\":\"j%d\",\"room\":\"%s\",\"token\":\"%s\",\"since\":%lld}", c->idx, r->code,
                 c->token, (long long)c->seq);
    else
        ws_sendf(c, "{\"type\":\"room.join\",\"ref\":\"j%d\",\"room\":\"%s\",\"name\":\"m%d\"}", c->idx, r->code, c->idx);
}

static void on_open(conn *c) {
    if (!strcmp(o_mode, "rt") && strcmp(scenario, "idleraw")) {
        if (c->role == R_FAC)
            ws_sendf(c, "{\"type\":\"room.create\",\"ref\":\"c%d\",\"title\":\"Bench %d\",\"name\":\"F\"}", c->idx, c->room);
        else {
            if (!strcmp(scenario, "launch")) c->op_start = now_ns();
            send_join(c);
        }
    } else {
        c->joined = 1;
        c_joined++;
        if (setup_inflight > 0) setup_inflight--;
    }
}

static void on_closed(conn *c) {
    if (c->ours_closing) return;
    c_dropped++;
    if (!first_error[0]) snprintf(first_error, sizeof first_error, "conn %d closed by server (joined=%d)", c->idx, c->joined);
    if (c->joined) { c->joined = 0; c_joined--; }
    else if (setup_inflight > 0 && phase <= PH_JOIN) setup_inflight--;
    c->inflight = 0;
}

static void bcast_on_msg(conn *c, char *p, int n);

static void on_message(conn *c, char *p, int n) {
    c_bytes_in += 0;
    if (!strcmp(o_mode, "rt")) {
        int64_t s;
        if (p[0] == '{' && (p[9] == 'm' || p[9] == 'r' || p[9] == 'p' || p[9] == 'n')) {
            /* events carry "seq" right after type and room; room.state carries it too */
            if (!msg_type_is(p, "poll.results") && get_int(p, "seq", &s) && s > c->seq) c->seq = s;
        }
        if (msg_type_is(p, "ack") || msg_type_is(p, "error")) {
            int64_t ref;
            char sref[64] = "";
            int kind = get_ref(p, &ref, sref, sizeof sref);
            int is_err = msg_type_is(p, "error");
            if (kind == 1) { /* vote */
                if (c->inflight > 0) c->inflight--;
                if (is_err) { v_errs++; note_error(c, p); return; }
                uint64_t t = now_ns();
                if (!strcmp(scenario, "fanout")) {
                    if (round_ack == 0) round_ack = t;
                    return;
                }
                v_acked++;
                if (ref > 0 && (size_t)ref < vote_sent_cap && vote_sent_ns[ref]) {
                    if (vote_sent_ns[ref] >= win_t0 && (win_t1 == 0 || vote_sent_ns[ref] < win_t1)) {
                        sample_add(&lat_ack, (t - vote_sent_ns[ref]) / 1e6);
                        v_acked_win++;
                    }
                }
                return;
            }
            if (kind != 2) { if (is_err) note_error(c, p); return; }
            if (is_err) {
                note_error(c, p);
                if (sref[0] == 'b' && b_probe) { b_use_update = 1; b_probe = 0; }
                if (sref[0] == 'j' || sref[0] == 'c') {
                    if (setup_inflight > 0 && phase <= PH_JOIN) setup_inflight--;
                    close_conn(c, 1);
                }
                return;
            }
            if (sref[0] == 'b') { b_probe = 0; return; }
            if (sref[0] == 'c') { /* room created */
                room_t *r = &rooms[c->room];
                get_str(p, "room", r->code, sizeof r->code);
                get_str(p, "facilitatorKey", r->key, sizeof r->key);
                get_str(p, "token", c->token, sizeof c->token);
                r->ready = 1;
                c->joined = 1;
                c_joined++;
                if (setup_inflight > 0) setup_inflight--;
                return;
            }
            if (sref[0] == 'p') { /* poll created */
                int64_t pid;
                if (get_int(p, "poll", &pid)) poll_id = (int)pid;
                poll_pending = 0;
                return;
            }
            if (sref[0] == 'l') { /* left: come back as a new member */
                close_conn(c, 1);
                c->token[0] = 0;
                c->resuming = 0;
                c->seq = 0;
                reopen_conn(c);
                return;
            }
            if (sref[0] == 'j') {
                char tok[48];
                if (get_str(p, "token", tok, sizeof tok)) strcpy(c->token, tok);
                if (strstr(p, "\"resumed\":\"events\"")) ch_events++;
                else if (strstr(p, "\"resumed\":\"state\"")) ch_states++;
                if (!c->joined) { c->joined = 1; c_joined++; }
                if (phase <= PH_JOIN && setup_inflight > 0) setup_inflight--;
                if (c->op_start) {
                    uint64_t t = now_ns();
                    sample_add(&lat_join, (t - c->op_start) / 1e6);
                    if (t >= win_t0 && (win_t1 == 0 || t <= win_t1)) ch_joins_win++;
                    c->op_start = 0;
                }
                c->resuming = 0;
                return;
            }
            return;
        }
        if (msg_type_is(p, "poll.results")) {
            results_msgs++;
            if (!strcmp(scenario, "fanout") && round_no >= 0 && c->last_round < round_no && round_t0) {
                c->last_round = round_no;
                uint64_t t = now_ns();
                if (round_count == 0) round_first = t;
                round_last = t;
                round_count++;
            }
            return;
        }
    }
    if (b_active || b_probe) bcast_on_msg(c, p, n);
}

/* ---------- bcast ---------- */
static char pad[2048];
static void bcast_send_one(void) {
    int64_t i = b_next++;
    b_sent[i] = now_ns();
    char body[2300];
    if (!strcmp(o_mode, "rt")) {
        if (b_use_update)
            ws_sendf(b_sender, "{\"type\":\"member.update\",\"ref\":\"b%lld\",\"bio\":\"@@%lld@@%.*s\"}", (long long)i,
                     (long long)i, o_payload, pad);
        else
            ws_sendf(b_sender, "{\"type\":\"room.announce\",\"ref\":\"b%lld\",\"text\":\"@@%lld@@%.*s\"}", (long long)i,
                     (long long)i, o_payload, pad);
    } else {
        int n = snprintf(body, sizeof body, "@@%lld@@%.*s", (long long)i, o_payload, pad);
        ws_send(b_sender, body, n);
    }
}
static void bcast_on_msg(conn *c, char *p, int n) {
    char *m = memmem(p, n, "@@", 2);
    if (!m) return;
    int64_t i = strtoll(m + 2, NULL, 10);
    if (i < 0 || i >= b_next) return;
    if (i <= c->last_msg) return; /* duplicate */
    c->last_msg = i;
    if (!b_active) return;
    b_deliveries++;
    b_bytes += n;
    if (++b_count[i] == b_receivers) {
        sample_add(&lat_bcast, (now_ns() - b_sent[i]) / 1e6);
        b_done++;
    }
}

/* ---------- JSON result ---------- */
static FILE *jf;
static int jfirst;
static void jbegin(void) {
    jf = o_out ? fopen(o_out, "w") : stdout;
    if (!jf) die("cannot write %s", o_out);
    fprintf(jf, "{");
    jfirst = 1;
}
static void jnum(const char *k, double v) {
    fprintf(jf, "%s\n  \"%s\": ", jfirst ? "" : ",", k);
    if (isnan(v) || isinf(v)) fprintf(jf, "null");
    else if (v == (long long)v && fabs(v) < 1e15) fprintf(jf, "%lld", (long long)v);
    else fprintf(jf, "%.6g", v);
    jfirst = 0;
}
static void jstr(const char *k, const char *v) {
    fprintf(jf, "%s\n  \"%s\": \"", jfirst ? "" : ",", k);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') fputc('\\', jf);
        if ((unsigned char)*v < 32) fputc(' ', jf); else fputc(*v, jf);
    }
    fputc('"', jf);
    jfirst = 0;
}
static void jarr(const char *k, const samples *s) {
    fprintf(jf, "%s\n  \"%s\": [", jfirst ? "" : ",", k);
    for (size_t i = 0; i < s->n; i++) fprintf(jf, "%s%.3f", i ? ", " : "", s->v[i]);
    fputc(']', jf);
    jfirst = 0;
}
static void jend(void) {
    fprintf(jf, "\n}\n");
    if (jf != stdout) fclose(jf);
}
static void jcommon(void) {
    jstr("scenario", scenario);
    jstr("mode", o_mode);
    jstr("label", o_label);
    jnum("members", n_members_target);
    jnum("rooms", nrooms);
    jnum("connections_open", c_open);
    jnum("errors", c_errors);
    jnum("dropped", c_dropped);
    jnum("connect_failures", c_connfail);
    jnum("setup_seconds", setup_t1 ? (setup_t1 - setup_t0) / 1e9 : -1);
    jnum("messages_in", c_msgs_in);
    jstr("first_error", first_error);
}

/* ---------- main loop ---------- */
static volatile sig_atomic_t stop_flag = 0;
static void on_sig(int s) { (void)s; stop_flag = 1; }

static void poll_once(int timeout_ms) {
    static struct epoll_event evs[1024];
    int n = epoll_wait(ep, evs, 1024, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn *c = evs[i].data.ptr;
        if (c->st == ST_CLOSED) continue;
        if (evs[i].events & (EPOLLOUT)) do_write(c);
        if (c->st == ST_CLOSED) continue;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) do_read(c);
    }
}

static double last_progress = 0;
static void progress(const char *what) {
    double t = secs();
    if (t - last_progress < 1.0) return;
    last_progress = t;
    logf_("%s: open=%ld joined=%ld msgs_in=%ld errors=%ld dropped=%ld srv_rss=%ldKiB", what, c_open, c_joined, c_msgs_in,
          c_errors, c_dropped, proc_rss_kib(o_spid));
}

/* Builds rooms (one facilitator each) and members, with at most o_conc setups in flight. */
static void setup_rooms_and_members(void) {
    setup_t0 = now_ns();
    uint64_t deadline = setup_t0 + (uint64_t)(o_setup_timeout * 1e9);
    int rt = !strcmp(o_mode, "rt") && strcmp(scenario, "idleraw");
    if (rt) {
        for (int r = 0; r < nrooms; r++) {
            rooms[r].fac = open_conn(R_FAC, r)->idx;
            setup_inflight++;
            while (setup_inflight >= o_conc && !stop_flag) poll_once(5);
        }
        while (setup_inflight > 0 && !stop_flag && now_ns() < deadline) poll_once(5);
        for (int r = 0; r < nrooms; r++)
            if (!rooms[r].ready) die("room %d was not created: %s", r, first_error);
    }
    phase = PH_JOIN;
    int next = 0;
    while (!stop_flag && now_ns() < deadline) {
        while (next < n_members_target && setup_inflight < o_conc) {
            int room = rt ? next % nrooms : 0;
            open_conn(R_MEMBER, room);
            setup_inflight++;
            next++;
        }
        poll_once(5);
        progress("setup");
        if (next == n_members_target && setup_inflight == 0) break;
    }
    setup_t1 = now_ns();
    logf_("setup done in %.1fs: %ld joined of %d (+%d facilitators), errors=%ld", (setup_t1 - setup_t0) / 1e9,
          c_joined - (rt ? nrooms : 0), n_members_target, rt ? nrooms : 0, c_errors);
}

static void run_for(double seconds, const char *what) {
    uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
    while (!stop_flag && now_ns() < end) {
        poll_once(5);
        progress(what);
    }
}

static void create_poll(void) {
    conn *f = &conns[rooms[0].fac];
    poll_pending = 1;
    ws_sendf(f, "{\"type\":\"poll.create\",\"ref\":\"p1\",\"question\":\"Which first?\",\"kind\":\"ranking\","
                "\"options\":[\"a\",\"b\",\"c\",\"d\"],\"open\":true}");
    uint64_t end = now_ns() + 90000000000ull; /* a server still flushing join traffic may take a while */
    while (poll_pending && now_ns() < end && !stop_flag) poll_once(5);
    if (!poll_id) die("poll.create not acknowledged within 90 s: %s", first_error);
    logf_("poll %d open", poll_id);
}

/* ---------- scenarios ---------- */
static void scen_idle(void) {
    long rss0 = proc_rss_kib(o_spid);
    setup_rooms_and_members();
    logf_("holding %.0fs", o_hold);
    /* CPU while nothing happens but keep-alive: a loop that spins or polls too often shows up here */
    double cpu_hold0 = proc_cpu_s(o_spid), t_hold0 = now_ns() / 1e9;
    run_for(o_hold, "idle");
    double cpu_hold = proc_cpu_s(o_spid) - cpu_hold0, hold_s = now_ns() / 1e9 - t_hold0;
    long rss1 = proc_rss_kib(o_spid);
    long n = c_open;
    jbegin();
    jcommon();
    jnum("server_rss_before_kib", rss0);
    jnum("server_rss_after_kib", rss1);
    jnum("server_rss_per_connection_kib", n > 0 ? (double)(rss1 - rss0) / n : -1);
    jnum("room_size", o_room_size);
    jnum("client_cpu_s", self_cpu_s());
    jnum("server_cpu_s", proc_cpu_s(o_spid));
    jnum("server_cpu_s_hold", cpu_hold);
    jnum("server_cores_hold", hold_s > 0 ? cpu_hold / hold_s : -1);
    jend();
    logf_("idle: server used %.3f s of CPU over the %.1f s hold (%.4f cores)", cpu_hold, hold_s, hold_s > 0 ? cpu_hold / hold_s : -1.0);
    logf_("idle: %ld connections, server RSS %ld -> %ld KiB = %.2f KiB/conn", n, rss0, rss1,
          n > 0 ? (double)(rss1 - rss0) / n : -1.0);
}

static conn **voters; static int nvoters;
static void collect_voters(void) {
    voters = calloc(nconns, sizeof(conn *));
    for (int i = 0; i < nconns; i++)
        if (conns[i].role == R_MEMBER && conns[i].joined) voters[nvoters++] = &conns[i];
    if (!nvoters) die("no joined members");
}

static void send_vote(conn *c) {
    int64_t ref = ++vote_ref;
    if ((size_t)ref >= vote_sent_cap) {
        size_t nc = vote_sent_cap ? vote_sent_cap * 2 : 1 << 20;
        vote_sent_ns = realloc(vote_sent_ns, nc * sizeof(uint64_t));
        memset(vote_sent_ns + vote_sent_cap, 0, (nc - vote_sent_cap) * sizeof(uint64_t));
        vote_sent_cap = nc;
    }
    vote_sent_ns[ref] = now_ns();
    c->inflight++;
    ws_sendf(c, "{\"type\":\"vote.cast\",\"ref\":%lld,\"poll\":%d,\"ranking\":%s}", (long long)ref, poll_id,
             perms[(ref * 7 + c->idx) % 24]);
}

static void scen_votes(void) {
    nrooms = 1;
    setup_rooms_and_members();
    create_poll();
    collect_voters();
    phase = PH_RUN;
    double total = o_warmup + o_duration;
    run_t0 = now_ns();
    win_t0 = run_t0 + (uint64_t)(o_warmup * 1e9);
    uint64_t end = run_t0 + (uint64_t)(total * 1e9);
    int inwin = 0;
    long acked_at_win = 0;
    logf_("voting: %d members, offered %.0f votes/s, warmup %.0fs + %.0fs measured", nvoters, o_rate, o_warmup, o_duration);
    while (!stop_flag) {
        uint64_t t = now_ns();
        if (!inwin && t >= win_t0) {
            inwin = 1;
            srv_cpu0 = proc_cpu_s(o_spid);
            self_cpu0 = self_cpu_s();
            acked_at_win = v_acked;
        }
        if (t >= end) break;
        double due = o_rate * (t - run_t0) / 1e9 - v_offered;
        long k = (long)due;
        if (k > 20000) k = 20000;
        for (long j = 0; j < k; j++) {
            v_offered++;
            int tries = 0;
            conn *c = NULL;
            while (tries < nvoters) {
                conn *x = voters[rr_next];
                rr_next = (rr_next + 1) % nvoters;
                tries++;
                if (x->joined && x->st == ST_OPEN && x->inflight < o_inflight) { c = x; break; }
            }
            if (!c) { v_shed++; continue; }
            send_vote(c);
            v_sent++;
        }
        poll_once(1);
        if (secs() - last_progress >= 1.0) {
            last_progress = secs();
            logf_("votes: offered=%ld sent=%ld acked=%ld shed=%ld errors=%ld srv_cpu=%.1fs", v_offered, v_sent, v_acked,
                  v_shed, v_errs, proc_cpu_s(o_spid));
        }
    }
    win_t1 = now_ns();
    srv_cpu1 = proc_cpu_s(o_spid);
    self_cpu1 = self_cpu_s();
    long acked_in_window = v_acked - acked_at_win;
    /* drain outstanding acks (their latency counts) for at most 5 s */
    uint64_t dend = now_ns() + 5000000000ull;
    long outstanding = 0;
    for (;;) {
        outstanding = 0;
        for (int i = 0; i < nvoters; i++) outstanding += voters[i]->inflight;
        if (!outstanding || now_ns() > dend || stop_flag) break;
        poll_once(5);
    }
    double wsec = (win_t1 - win_t0) / 1e9;
    double rate = acked_in_window / wsec;
    double scpu = srv_cpu1 - srv_cpu0;
    jbegin();
    jcommon();
    jnum("offered_rate", o_rate);
    jnum("window_seconds", wsec);
    jnum("votes_offered", v_offered);
    jnum("votes_sent", v_sent);
    jnum("votes_shed_client_window_full", v_shed);
    jnum("votes_acked", v_acked);
    jnum("votes_unacked_at_end", outstanding);
    jnum("vote_errors", v_errs);
    jnum("acked_per_s", rate);
    jnum("ack_ms_p50", pct(&lat_ack, 50));
    jnum("ack_ms_p99", pct(&lat_ack, 99));
    jnum("ack_ms_p999", pct(&lat_ack, 99.9));
    jnum("ack_ms_max", pct(&lat_ack, 100));
    jnum("server_cpu_s", scpu);
    jnum("server_cpu_s_per_100k_votes", acked_in_window ? scpu / acked_in_window * 1e5 : -1);
    jnum("server_cpu_us_per_vote", acked_in_window ? scpu / acked_in_window * 1e6 : -1);
    jnum("server_core_utilisation", scpu / wsec);
    jnum("client_core_utilisation", (self_cpu1 - self_cpu0) / wsec);
    jnum("client_bound", (self_cpu1 - self_cpu0) / wsec > 0.9);
    jnum("results_messages", results_msgs);
    jnum("server_rss_kib", proc_rss_kib(o_spid));
    jend();
    logf_("votes: %.0f acked/s (offered %.0f), ack p50 %.2f p99 %.2f p999 %.2f ms, server %.2f s CPU/100k votes, client core %.0f%%",
          rate, o_rate, pct(&lat_ack, 50), pct(&lat_ack, 99), pct(&lat_ack, 99.9),
          acked_in_window ? scpu / acked_in_window * 1e5 : -1.0, 100 * (self_cpu1 - self_cpu0) / wsec);
}

static int count_probe_receivers(int64_t id) {
    int n = 0;
    for (int i = 0; i < nconns; i++)
        if (conns[i].st == ST_OPEN && conns[i].last_msg >= id) n++;
    return n;
}

static void bcast_phase(void) {
    b_count = calloc(o_msgs + 64, sizeof(int));
    b_sent = calloc(o_msgs + 64, sizeof(uint64_t));
    int open_now = 0;
    for (int i = 0; i < nconns; i++)
        if (conns[i].st == ST_OPEN && conns[i].joined) open_now++;
    if (!strcmp(o_mode, "rt")) {
        b_sender = &conns[rooms[0].fac];
    } else {
        for (int i = 0; i < nconns && !b_sender; i++)
            if (conns[i].st == ST_OPEN) b_sender = &conns[i];
    }
    /* probe: one message; who receives it (the sender may or may not); does room.announce exist? */
    int64_t probe = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        b_probe = 1;
        probe = b_next;
        bcast_send_one();
        uint64_t end = now_ns() + 5000000000ull;
        while (now_ns() < end && !stop_flag) {
            poll_once(5);
            if (b_use_update && attempt == 0) break;
            if (count_probe_receivers(probe) >= open_now - 1) { run_for(0.3, "bcast-probe"); break; }
        }
        if (b_use_update && attempt == 0) {
            logf_("room.announce refused (unknown_type): using member.update -> member.updated");
            b_sender = NULL;
            for (int i = 0; i < nconns && !b_sender; i++)
                if (conns[i].role == R_MEMBER && conns[i].joined) b_sender = &conns[i];
            continue;
        }
        break;
    }
    b_probe = 0;
    b_receivers = count_probe_receivers(probe);
    logf_("probe reached %d of %d open connections", b_receivers, open_now);
    int64_t base = b_next;
    b_active = 1;
    b_done = 0;
    b_deliveries = 0;
    b_t0 = now_ns();
    b_srv0 = proc_cpu_s(o_spid);
    b_self0 = self_cpu_s();
    uint64_t end = b_t0 + (uint64_t)(o_duration * 1e9);
    logf_("broadcast: %d messages of %d B payload to %d receivers, window %d", o_msgs, o_payload, b_receivers, o_window);
    while (!stop_flag && b_done < o_msgs && now_ns() < end) {
        while (b_next - base < o_msgs && (b_next - base) - b_done < o_window) bcast_send_one();
        poll_once(1);
        progress("bcast");
    }
    b_t1 = now_ns();
    b_srv1 = proc_cpu_s(o_spid);
    b_self1 = self_cpu_s();
    b_active = 0;
}

static void bcast_json(void) {
    double sec = (b_t1 - b_t0) / 1e9, scpu = b_srv1 - b_srv0;
    jnum("bcast_messages", o_msgs);
    jnum("bcast_completed", b_done);
    jnum("bcast_receivers", b_receivers);
    jnum("bcast_payload_bytes", o_payload);
    jnum("bcast_window", o_window);
    if (!strcmp(o_mode, "rt")) jstr("bcast_rt_request", b_use_update ? "member.update" : "room.announce");
    jnum("bcast_seconds", sec);
    jnum("deliveries", b_deliveries);
    jnum("deliveries_per_s", b_deliveries / sec);
    jnum("bytes_per_delivery", b_deliveries ? (double)b_bytes / b_deliveries : -1);
    jnum("server_cpu_s", scpu);
    jnum("server_cpu_ms_per_1k_deliveries", b_deliveries ? scpu / b_deliveries * 1e6 : -1);
    jnum("server_cpu_us_per_delivery", b_deliveries ? scpu / b_deliveries * 1e6 : -1);
    jnum("server_core_utilisation", scpu / sec);
    jnum("client_core_utilisation", (b_self1 - b_self0) / sec);
    jnum("client_bound", (b_self1 - b_self0) / sec > 0.9);
    jnum("bcast_last_ms_p50", pct(&lat_bcast, 50));
    jnum("bcast_last_ms_p99", pct(&lat_bcast, 99));
    jnum("server_rss_kib", proc_rss_kib(o_spid));
    logf_("broadcast: %ld deliveries in %.2fs = %.0f/s; server %.3f ms CPU per 1k deliveries (core %.0f%%), client core %.0f%%",
          b_deliveries, sec, b_deliveries / sec, b_deliveries ? scpu / b_deliveries * 1e6 : -1.0, 100 * scpu / sec,
          100 * (b_self1 - b_self0) / sec);
}

static void scen_bcast(void) {
    nrooms = !strcmp(o_mode, "rt") ? 1 : 0;
    setup_rooms_and_members();
    run_for(1.0, "settle");
    bcast_phase();
    jbegin();
    jcommon();
    bcast_json();
    jend();
}

static void scen_fanout(void) {
    nrooms = 1;
    setup_rooms_and_members();
    create_poll();
    collect_voters();
    run_for(1.0, "settle");
    conn *voter = voters[0];
    int receivers = 0;
    for (int i = 0; i < nconns; i++)
        if (conns[i].st == ST_OPEN && conns[i].joined) receivers++;
    logf_("fan-out: %d receivers, %d rounds, gap %d ms", receivers, o_rounds, o_gap_ms);
    uint64_t t = now_ns();
    next_round_at = t;
    double scpu0 = proc_cpu_s(o_spid), self0 = self_cpu_s();
    uint64_t ft0 = t;
    long delivered = 0;
    while (!stop_flag && rounds_done + rounds_timeout < o_rounds) {
        t = now_ns();
        if (round_t0 == 0 && t >= next_round_at) {
            round_no++;
            round_count = 0;
            round_first = round_last = round_ack = 0;
            round_t0 = now_ns();
            send_vote(voter);
        }
        poll_once(1);
        t = now_ns();
        if (round_t0 && (round_count >= receivers || t - round_t0 > 3000000000ull)) {
            if (round_count >= receivers) {
                rounds_done++;
                sample_add(&lat_last, (round_last - round_t0) / 1e6);
                sample_add(&lat_first, (round_first - round_t0) / 1e6);
                sample_add(&seq_last, (round_last - round_t0) / 1e6);
                sample_add(&seq_first, (round_first - round_t0) / 1e6);
                if (round_last > round_first) sample_add(&rate_round, round_count / ((round_last - round_first) / 1e9));
            } else {
                rounds_timeout++;
                missing_total += receivers - round_count;
            }
            if (round_ack) sample_add(&lat_ackf, (round_ack - round_t0) / 1e6);
            delivered += round_count;
            next_round_at = (round_last ? round_last : t) + (uint64_t)o_gap_ms * 1000000ull;
            if (next_round_at < round_t0 + (uint64_t)(o_result_ms + 50) * 1000000ull)
                next_round_at = round_t0 + (uint64_t)(o_result_ms + 50) * 1000000ull;
            round_t0 = 0;
        }
        progress("fanout");
    }
    double fsec = (now_ns() - ft0) / 1e9, scpu = proc_cpu_s(o_spid) - scpu0, self = self_cpu_s() - self0;
    logf_("fan-out %d: vote->last p50 %.1f p99 %.1f ms; vote->first p50 %.1f; ack p50 %.1f; %d rounds ok, %d timed out",
          receivers, pct(&lat_last, 50), pct(&lat_last, 99), pct(&lat_first, 50), pct(&lat_ackf, 50), rounds_done,
          rounds_timeout);
    if (o_msgs > 0) bcast_phase();
    jbegin();
    jcommon();
    jnum("receivers", receivers);
    jnum("rounds_ok", rounds_done);
    jnum("rounds_timed_out", rounds_timeout);
    jnum("missing_deliveries", missing_total);
    jnum("vote_to_last_ms_p50", pct(&lat_last, 50));
    jnum("vote_to_last_ms_p99", pct(&lat_last, 99));
    jnum("vote_to_last_ms_max", pct(&lat_last, 100));
    jnum("vote_to_first_ms_p50", pct(&lat_first, 50));
    jnum("vote_to_first_ms_p99", pct(&lat_first, 99));
    jarr("vote_to_last_ms_rounds", &seq_last);
    jarr("vote_to_first_ms_rounds", &seq_first);
    jnum("vote_ack_ms_p50", pct(&lat_ackf, 50));
    jnum("round_delivery_rate_per_s_p50", pct(&rate_round, 50));
    jnum("rounds_server_cpu_s", scpu);
    jnum("rounds_server_cpu_ms_per_1k_deliveries", delivered ? scpu / delivered * 1e6 : -1);
    jnum("rounds_client_core_utilisation", self / fsec);
    jnum("results_interval_ms", o_result_ms);
    if (o_msgs > 0) bcast_json();
    else jnum("server_rss_kib", proc_rss_kib(o_spid));
    jend();
}

static void scen_churn(void) {
    setup_rooms_and_members();
    collect_voters();
    phase = PH_RUN;
    run_for(1.0, "settle");
    run_t0 = now_ns();
    win_t0 = run_t0 + (uint64_t)(o_warmup * 1e9);
    uint64_t end = run_t0 + (uint64_t)((o_warmup + o_duration) * 1e9);
    srand(42);
    long offered = 0, busy = 0;
    int inwin = 0;
    logf_("churn: %d members in %d rooms, %.0f ops/s (%.0f%% leave+rejoin, rest drop+resume)", nvoters, nrooms, o_rate,
          o_leave_frac * 100);
    while (!stop_flag) {
        uint64_t t = now_ns();
        if (!inwin && t >= win_t0) { inwin = 1; srv_cpu0 = proc_cpu_s(o_spid); self_cpu0 = self_cpu_s(); }
        if (t >= end) break;
        long k = (long)(o_rate * (t - run_t0) / 1e9) - offered;
        for (long j = 0; j < k; j++) {
            offered++;
            conn *c = voters[rand() % nvoters];
            if (!c->joined || c->op_start || c->st != ST_OPEN) { busy++; continue; }
            ch_ops++;
            c->op_start = now_ns();
            c->joined = 0;
            c_joined--;
            if ((double)rand() / RAND_MAX < o_leave_frac) {
                ch_leaves++;
                ws_sendf(c, "{\"type\":\"room.leave\",\"ref\":\"l%d\"}", c->idx);
            } else {
                ch_resumes++;
                close_conn(c, 1);
                c->resuming = 1;
                reopen_conn(c);
            }
        }
        poll_once(1);
        if (secs() - last_progress >= 1.0) {
            last_progress = secs();
            logf_("churn: ops=%ld joins_in_window=%ld errors=%ld dropped=%ld connfail=%ld", ch_ops, ch_joins_win, c_errors,
                  c_dropped, c_connfail);
        }
    }
    win_t1 = now_ns();
    srv_cpu1 = proc_cpu_s(o_spid);
    self_cpu1 = self_cpu_s();
    run_for(2.0, "drain");
    long stuck = 0;
    for (int i = 0; i < nvoters; i++) if (voters[i]->op_start) stuck++;
    double wsec = (win_t1 - win_t0) / 1e9;
    jbegin();
    jcommon();
    jnum("offered_ops_per_s", o_rate);
    jnum("ops", ch_ops);
    jnum("ops_skipped_member_busy", busy);
    jnum("resumes", ch_resumes);
    jnum("leave_rejoins", ch_leaves);
    jnum("resumed_with_events", ch_events);
    jnum("resumed_with_state", ch_states);
    jnum("joins_per_s", ch_joins_win / wsec);
    jnum("join_ms_p50", pct(&lat_join, 50));
    jnum("join_ms_p99", pct(&lat_join, 99));
    jnum("join_ms_max", pct(&lat_join, 100));
    jnum("ops_unfinished", stuck);
    jnum("server_cpu_s", srv_cpu1 - srv_cpu0);
    jnum("server_cpu_ms_per_join", ch_joins_win ? (srv_cpu1 - srv_cpu0) / ch_joins_win * 1e3 : -1);
    jnum("server_core_utilisation", (srv_cpu1 - srv_cpu0) / wsec);
    jnum("client_core_utilisation", (self_cpu1 - self_cpu0) / wsec);
    jnum("room_size", o_room_size);
    jnum("server_rss_kib", proc_rss_kib(o_spid));
    jend();
    logf_("churn: %.0f joins/s (offered %.0f), join p50 %.2f p99 %.2f ms, errors=%ld dropped=%ld unfinished=%ld",
          ch_joins_win / wsec, o_rate, pct(&lat_join, 50), pct(&lat_join, 99), c_errors, c_dropped, stuck);
}


/* A virtual launch: everyone joins one room, paced or flat out. */
static void scen_launch(void) {
    nrooms = 1;
    phase = PH_ROOMS;
    setup_t0 = now_ns();
    rooms[0].fac = open_conn(R_FAC, 0)->idx;
    setup_inflight = 1;
    uint64_t deadline = setup_t0 + (uint64_t)(o_setup_timeout * 1e9);
    while (setup_inflight > 0 && !stop_flag && now_ns() < deadline) poll_once(5);
    if (!rooms[0].ready) die("room was not created: %s", first_error);
    run_for(0.5, "settle");
    phase = PH_JOIN;
    long fac_msgs0 = c_msgs_in - c_msgs_members;
    double cpu0 = proc_cpu_s(o_spid), self0 = self_cpu_s();
    uint64_t t0 = now_ns();
    int next = 0;
    logf_("launch: %d members into one room at %s", n_members_target, o_rate > 0 ? "a paced rate" : "full speed");
    while (!stop_flag && now_ns() < deadline) {
        uint64_t t = now_ns();
        int due = o_rate > 0 ? (int)fmin(n_members_target, o_rate * (t - t0) / 1e9 + 1) : n_members_target;
        while (next < due && (o_rate > 0 || setup_inflight < o_conc)) {
            open_conn(R_MEMBER, 0);
            setup_inflight++;
            next++;
        }
        poll_once(1);
        progress("launch");
        if (next == n_members_target && setup_inflight == 0) break;
    }
    uint64_t t1 = now_ns();
    double cpu1 = proc_cpu_s(o_spid), self1 = self_cpu_s();
    long joined = c_joined - 1;
    long member_msgs_at_last_join = c_msgs_members;
    run_for(o_hold, "hold");
    double cpu2 = proc_cpu_s(o_spid);
    double wall = (t1 - t0) / 1e9;
    jbegin();
    jcommon();
    jnum("offered_joins_per_s", o_rate);
    jnum("joined", joined);
    jnum("join_seconds", wall);
    jnum("joins_per_s", joined / wall);
    jnum("join_ack_ms_p50", pct(&lat_join, 50));
    jnum("join_ack_ms_p99", pct(&lat_join, 99));
    jnum("join_ack_ms_max", pct(&lat_join, 100));
    jnum("server_cpu_s", cpu1 - cpu0);
    jnum("server_cores", (cpu1 - cpu0) / wall);
    jnum("server_cpu_ms_per_join", joined ? (cpu1 - cpu0) / joined * 1e3 : -1);
    jnum("server_cpu_s_hold", cpu2 - cpu1);
    jnum("client_cores", (self1 - self0) / wall);
    jnum("messages_per_joiner", joined ? (double)c_msgs_members / joined : -1);
    jnum("messages_per_joiner_during_joins", joined ? (double)member_msgs_at_last_join / joined : -1);
    jnum("facilitator_messages", c_msgs_in - c_msgs_members - fac_msgs0);
    jnum("hold_seconds", o_hold);
    jnum("server_rss_kib", proc_rss_kib(o_spid));
    jend();
    logf_("launch: %ld joined in %.1fs (%.0f/s), ack p50 %.1f p99 %.1f ms, server %.2f cores, %.1f messages per joiner",
          joined, wall, joined / wall, pct(&lat_join, 50), pct(&lat_join, 99), (cpu1 - cpu0) / wall,
          joined ? (double)c_msgs_members / joined : -1);
}

static void usage(void) {
    fprintf(stderr,
            "usage: rtbench SCENARIO --port P [--server-pid PID] [--out FILE] [options]\n"
            "  scenarios: idle idleraw votes fanout churn bcast launch\n"
            "  --mode rt|mirror|plain  --path /ws  --proto NAME  --members N  --room-size N\n"
            "  --rate R  --duration S  --warmup S  --hold S  --inflight N  --rounds N  --gap-ms N\n"
            "  --msgs N  --window N  --payload BYTES  --concurrency N  --leave-frac F  --results-ms N\n"
            "  --setup-timeout S  --label TEXT\n");
    exit(2);
}

int main(int argc, char **argv) {
    t0_ns = now_ns();
    if (argc < 2) usage();
    scenario = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, stmt) else if (!strcmp(a, name)) { if (!v) usage(); stmt; i++; }
        if (0) {}
        OPT("--port", o_port = atoi(v)) OPT("--host", o_host = v) OPT("--path", o_path = v) OPT("--proto", o_proto = v)
        OPT("--server-pid", o_spid = atoi(v)) OPT("--out", o_out = v) OPT("--mode", o_mode = v)
        OPT("--members", o_members = atoi(v)) OPT("--room-size", o_room_size = atoi(v)) OPT("--rate", o_rate = atof(v))
        OPT("--duration", o_duration = atof(v)) OPT("--warmup", o_warmup = atof(v)) OPT("--hold", o_hold = atof(v))
        OPT("--inflight", o_inflight = atoi(v)) OPT("--rounds", o_rounds = atoi(v)) OPT("--gap-ms", o_gap_ms = atoi(v))
        OPT("--msgs", o_msgs = atoi(v)) OPT("--window", o_window = atoi(v)) OPT("--payload", o_payload = atoi(v))
        OPT("--concurrency", o_conc = atoi(v)) OPT("--leave-frac", o_leave_frac = atof(v))
        OPT("--results-ms", o_result_ms = atoi(v)) OPT("--setup-timeout", o_setup_timeout = atof(v))
        OPT("--label", o_label = v) OPT("--rooms", o_rooms = atoi(v))
        else usage();
    }
    if (!o_port) usage();
    if (o_payload > (int)sizeof pad - 1) o_payload = sizeof pad - 1;
    memset(pad, 'x', sizeof pad - 1);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    static const char *p24[24] = {"[1,2,3,4]", "[1,2,4,3]", "[1,3,2,4]", "[1,3,4,2]", "[1,4,2,3]", "[1,4,3,2]",
                                  "[2,1,3,4]", "[2,1,4,3]", "[2,3,1,4]", "[2,3,4,1]", "[2,4,1,3]", "[2,4,3,1]",
                                  "[3,1,2,4]", "[3,1,4,2]", "[3,2,1,4]", "[3,2,4,1]", "[3,4,1,2]", "[3,4,2,1]",
                                  "[4,1,2,3]", "[4,1,3,2]", "[4,2,1,3]", "[4,2,3,1]", "[4,3,1,2]", "[4,3,2,1]"};
    memcpy(perms, p24, sizeof p24);
    srv.sin_family = AF_INET;
    srv.sin_port = htons(o_port);
    inet_pton(AF_INET, o_host, &srv.sin_addr);
    ep = epoll_create1(EPOLL_CLOEXEC);
    n_members_target = o_members;
    if (o_room_size < 1) o_room_size = 1;
    nrooms = o_rooms ? o_rooms : (o_members + o_room_size - 1) / o_room_size;
    if (!strcmp(scenario, "idleraw")) nrooms = 0;
    if (!strcmp(scenario, "launch")) nrooms = 1;
    nconns_cap = o_members + nrooms + 16;
    conns = calloc(nconns_cap, sizeof(conn));
    rooms = calloc(nrooms + 1, sizeof(room_t));
    if (!strcmp(scenario, "idle") || !strcmp(scenario, "idleraw")) scen_idle();
    else if (!strcmp(scenario, "votes")) scen_votes();
    else if (!strcmp(scenario, "fanout")) scen_fanout();
    else if (!strcmp(scenario, "churn")) scen_churn();
    else if (!strcmp(scenario, "bcast")) scen_bcast();
    else if (!strcmp(scenario, "launch")) scen_launch();
    else usage();
    return 0;
}
