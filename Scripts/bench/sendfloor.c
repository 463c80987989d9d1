/*
 * sendfloor — the physical floor of a loopback TCP fan-out on this machine.
 *
 * No WebSocket, no server logic: one thread pinned to core 0 writes one ~200-byte
 * message to each of N loopback TCP connections (TCP_NODELAY, one syscall per
 * connection unless io_uring batches them), one thread pinned to core 1 receives with
 * epoll and notes when the last byte of the last connection arrived. What is left is
 * the kernel's cost: on loopback, send() on core 0 also runs the receiver's TCP input
 * path (softirq on the sending core) and the wakeup of the epoll waiter on core 1.
 *
 * Modes:
 *   send      send(fd, buf, len, 0)            blocking sockets
 *   dontwait  send(fd, buf, len, MSG_DONTWAIT)
 *   writev    writev(fd, {4-byte WS header, payload})
 *   uring     IORING_OP_SEND, SQEs submitted every BATCH entries (BATCH=N: one submit)
 *   uringdt   same with IORING_SETUP_SINGLE_ISSUER|IORING_SETUP_DEFER_TASKRUN
 *   syscall   cost of a trivial syscall: 1e6 x getppid, 1e6 x write(/dev/null, 0 bytes)
 *
 * Per round: wall time from first send to last byte received (ms), the sending
 * thread's CPU time over the send loop (CLOCK_THREAD_CPUTIME_ID, us per send; for
 * io_uring: until all completions are reaped), the receiving thread's CPU per message.
 * ROUNDS rounds with 300 ms gaps; p50/p99 (nearest rank; with 20 rounds p99 = max)
 * on stdout and one JSON line.
 *
 * Build: gcc -O2 -o sendfloor sendfloor.c            (no io_uring)
 *        gcc -O2 -DHAVE_URING -o sendfloor sendfloor.c -luring
 * Run:   ulimit -n 20000; ./sendfloor MODE N [ROUNDS=20] [BATCH=N] [MSGLEN=200]
 *        N <= 9900 (two fds per connection).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_URING
#include <liburing.h>
#endif

static int N, ROUNDS = 20, BATCH, MSGLEN = 200;
static const char *MODE;
static int *srv_fd, *cli_fd;
static uint32_t *rcvd;
static char msg[65536];

static double *wall_ms, *send_loop_ms, *send_cpu_us, *recv_cpu_us;
static _Atomic int round_done = -1, stop;

static double now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) { perror(what); exit(1); }

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (pthread_setaffinity_np(pthread_self(), sizeof s, &s)) die("setaffinity");
}

static double t_first[1 << 10], t_last[1 << 10];

static void *receiver(void *arg) {
    (void)arg;
    pin(1);
    pthread_setname_np(pthread_self(), "sf-recv");
    int ep = epoll_create1(0);
    for (int i = 0; i < N; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cli_fd[i], &ev)) die("epoll_ctl");
    }
    struct epoll_event evs[1024];
    char buf[65536];
    for (int r = 0; r < ROUNDS; r++) {
        uint32_t target = (uint32_t)MSGLEN * (r + 1);
        int done = 0;
        double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        while (done < N) {
            int k = epoll_wait(ep, evs, 1024, 2000);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) die("epoll_wait");
            if (k == 0) {
                if (atomic_load(&stop)) return NULL;
                continue;
            }
            for (int j = 0; j < k; j++) {
                uint32_t i = evs[j].data.u32;
                ssize_t got = read(cli_fd[i], buf, sizeof buf);
                if (got <= 0) die("read");
                uint32_t before = rcvd[i];
                rcvd[i] += (uint32_t)got;
                if (before < target && rcvd[i] >= target) done++;
            }
        }
        t_last[r] = now_ns(CLOCK_MONOTONIC);
        recv_cpu_us[r] = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / 1e3 / N;
        atomic_store(&round_done, r);
    }
    return NULL;
}

#ifdef HAVE_URING
static struct io_uring ring;
static int ring_ready;

static unsigned pow2(unsigned x) { unsigned p = 1; while (p < x) p <<= 1; return p; }

static void uring_setup(int defer) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE;
    if (defer) p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    unsigned sq = pow2((unsigned)BATCH);
    if (sq > 32768) sq = 32768;
    p.cq_entries = pow2((unsigned)N);
    if (p.cq_entries < sq * 2) p.cq_entries = sq * 2;
    int e = io_uring_queue_init_params(sq, &ring, &p);
    if (e < 0) { errno = -e; die("io_uring_queue_init_params"); }
    ring_ready = 1;
}

static int reap(int wait_for) {
    int got = 0;
    struct io_uring_cqe *cqe;
    for (;;) {
        int e = wait_for > got ? io_uring_wait_cqe(&ring, &cqe) : io_uring_peek_cqe(&ring, &cqe);
        if (e == -EAGAIN) break;
        if (e == -EINTR) continue;
        if (e < 0) { errno = -e; die("io_uring cqe"); }
        if (cqe->res != MSGLEN) { fprintf(stderr, "send cqe res %d\n", cqe->res); exit(1); }
        io_uring_cqe_seen(&ring, cqe);
        got++;
    }
    return got;
}

static void uring_round(void) {
    int reaped = 0, queued = 0;
    for (int i = 0; i < N; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        if (!sqe) { io_uring_submit(&ring); queued = 0; reaped += reap(0); sqe = io_uring_get_sqe(&ring); }
        io_uring_prep_send(sqe, srv_fd[i], msg, (size_t)MSGLEN, 0);
        if (++queued == BATCH) { io_uring_submit(&ring); queued = 0; reaped += reap(0); }
    }
    if (queued) io_uring_submit(&ring);
    while (reaped < N) reaped += reap(N - reaped);
}
#endif

static void *sender(void *arg) {
    (void)arg;
    pin(0);
    pthread_setname_np(pthread_self(), "sf-send");
#ifdef HAVE_URING
    if (!strncmp(MODE, "uring", 5)) uring_setup(!strcmp(MODE, "uringdt"));
#endif
    int m = !strcmp(MODE, "send") ? 0 : !strcmp(MODE, "dontwait") ? 1 : !strcmp(MODE, "writev") ? 2 : 3;
    for (int r = 0; r < ROUNDS; r++) {
        while (atomic_load(&round_done) != r - 1) usleep(1000);
        usleep(300000);
        double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        t_first[r] = now_ns(CLOCK_MONOTONIC);
        if (m == 3) {
#ifdef HAVE_URING
            uring_round();
#endif
        } else {
            for (int i = 0; i < N; i++) {
                ssize_t w;
                if (m == 0) w = send(srv_fd[i], msg, (size_t)MSGLEN, 0);
                else if (m == 1) w = send(srv_fd[i], msg, (size_t)MSGLEN, MSG_DONTWAIT);
                else {
                    struct iovec iov[2] = {{msg, 4}, {msg + 4, (size_t)MSGLEN - 4}};
                    w = writev(srv_fd[i], iov, 2);
                }
                if (w != MSGLEN) { fprintf(stderr, "short send %zd on %d\n", w, i); exit(1); }
            }
        }
        double t1 = now_ns(CLOCK_MONOTONIC);
        send_cpu_us[r] = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / 1e3 / N;
        send_loop_ms[r] = (t1 - t_first[r]) / 1e6;
    }
    while (atomic_load(&round_done) != ROUNDS - 1) usleep(1000);
    atomic_store(&stop, 1);
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(double *v, int n, double p) { /* nearest rank */
    double *s = malloc(sizeof *s * (size_t)n);
    memcpy(s, v, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp);
    int k = (int)(p / 100.0 * n + 0.999999);
    if (k < 1) k = 1;
    double r = s[k - 1];
    free(s);
    return r;
}

static void syscall_cost(void) {
    pin(0);
    const int iters = 1000000;
    int dn = open("/dev/null", O_WRONLY);
    if (dn < 0) die("/dev/null");
    double best_ppid = 1e18, best_wr = 1e18;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_ns(CLOCK_MONOTONIC);
        for (int i = 0; i < iters; i++) syscall(SYS_getppid);
        double t1 = now_ns(CLOCK_MONOTONIC);
        for (int i = 0; i < iters; i++) if (write(dn, msg, 0) != 0) die("write");
        double t2 = now_ns(CLOCK_MONOTONIC);
        double a = (t1 - t0) / iters, b = (t2 - t1) / iters;
        printf("rep %d: getppid %.1f ns/call, write(/dev/null,0) %.1f ns/call\n", rep, a, b);
        if (a < best_ppid) best_ppid = a;
        if (b < best_wr) best_wr = b;
    }
    printf("{\"mode\":\"syscall\",\"iters\":%d,\"getppid_ns_best\":%.1f,\"write_devnull_ns_best\":%.1f}\n",
           iters, best_ppid, best_wr);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s send|dontwait|writev|uring|uringdt|syscall N [ROUNDS] [BATCH] [MSGLEN]\n", argv[0]);
        return 2;
    }
    MODE = argv[1];
    memset(msg, 'x', sizeof msg);
    msg[0] = (char)0x81; msg[1] = 126; /* looks like a WebSocket text frame header */
    if (!strcmp(MODE, "syscall")) { syscall_cost(); return 0; }
    if (argc < 3) return 2;
    N = atoi(argv[2]);
    if (argc > 3) ROUNDS = atoi(argv[3]);
    BATCH = argc > 4 ? atoi(argv[4]) : N;
    if (argc > 5) MSGLEN = atoi(argv[5]);
    if (N < 1 || N > 9900 || ROUNDS < 1 || ROUNDS > 1000 || BATCH < 1 || MSGLEN < 8 || MSGLEN > 65536) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
#ifndef HAVE_URING
    if (!strncmp(MODE, "uring", 5)) { fprintf(stderr, "built without io_uring\n"); return 2; }
#endif
    msg[2] = (char)((MSGLEN - 4) >> 8); msg[3] = (char)(MSGLEN - 4);

    srv_fd = calloc((size_t)N, sizeof *srv_fd);
    cli_fd = calloc((size_t)N, sizeof *cli_fd);
    rcvd = calloc((size_t)N, sizeof *rcvd);
    wall_ms = calloc((size_t)ROUNDS, sizeof(double));
    send_loop_ms = calloc((size_t)ROUNDS, sizeof(double));
    send_cpu_us = calloc((size_t)ROUNDS, sizeof(double));
    recv_cpu_us = calloc((size_t)ROUNDS, sizeof(double));

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(ls, (struct sockaddr *)&a, sizeof a)) die("bind");
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    if (listen(ls, 4096)) die("listen");
    for (int i = 0; i < N; i++) {
        cli_fd[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (cli_fd[i] < 0) die("socket (raise ulimit -n)");
        if (connect(cli_fd[i], (struct sockaddr *)&a, sizeof a)) die("connect");
        srv_fd[i] = accept(ls, NULL, NULL);
        if (srv_fd[i] < 0) die("accept (raise ulimit -n)");
        setsockopt(srv_fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(cli_fd[i], F_SETFL, O_NONBLOCK);
    }
    close(ls);

    pthread_t rt, st;
    pthread_create(&rt, NULL, receiver, NULL);
    pthread_create(&st, NULL, sender, NULL);
    pthread_join(st, NULL);
    pthread_join(rt, NULL);

    for (int r = 0; r < ROUNDS; r++) {
        wall_ms[r] = (t_last[r] - t_first[r]) / 1e6;
        printf("round %2d: first send -> last byte %7.2f ms | send loop %7.2f ms, %6.2f us CPU/send | recv %5.2f us CPU/msg\n",
               r, wall_ms[r], send_loop_ms[r], send_cpu_us[r], recv_cpu_us[r]);
    }
    printf("%s N=%d batch=%d: wall p50 %.2f p99 %.2f ms | send CPU p50 %.2f p99 %.2f us/send | recv CPU p50 %.2f us/msg\n",
           MODE, N, BATCH, pct(wall_ms, ROUNDS, 50), pct(wall_ms, ROUNDS, 99), pct(send_cpu_us, ROUNDS, 50),
           pct(send_cpu_us, ROUNDS, 99), pct(recv_cpu_us, ROUNDS, 50));
    printf("{\"mode\":\"%s\",\"n\":%d,\"rounds\":%d,\"batch\":%d,\"msglen\":%d,"
           "\"wall_ms_p50\":%.2f,\"wall_ms_p99\":%.2f,\"send_loop_ms_p50\":%.2f,"
           "\"send_cpu_us_per_send_p50\":%.3f,\"send_cpu_us_per_send_p99\":%.3f,"
           "\"recv_cpu_us_per_msg_p50\":%.3f}\n",
           MODE, N, ROUNDS, BATCH, MSGLEN, pct(wall_ms, ROUNDS, 50), pct(wall_ms, ROUNDS, 99),
           pct(send_loop_ms, ROUNDS, 50), pct(send_cpu_us, ROUNDS, 50), pct(send_cpu_us, ROUNDS, 99),
           pct(recv_cpu_us, ROUNDS, 50));
#ifdef HAVE_URING
    if (ring_ready) io_uring_queue_exit(&ring);
#endif
    return 0;
}
