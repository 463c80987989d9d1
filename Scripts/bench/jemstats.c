// LD_PRELOAD shim for memory benchmarks: every JEMSTATS_MS (default 500) ms, appends jemalloc's own
// accounting to the file JEMSTATS_OUT as "unix_ms allocated active resident dirty_pages", so a run can
// tell live heap (allocated) from pages freed but kept by the allocator (resident - active, dirty).
// Build: gcc -O2 -shared -fPIC -o jemstats.so jemstats.c -ljemalloc -lpthread
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t get(const char *name) {
    size_t v = 0, n = sizeof v;
    if (mallctl(name, &v, &n, NULL, 0) != 0) return 0;
    return v;
}

static void *loop(void *arg) {
    const char *out = arg;
    const char *ms = getenv("JEMSTATS_MS");
    long period = ms ? atol(ms) : 500;
    char dirty[64];
    snprintf(dirty, sizeof dirty, "stats.arenas.%u.pdirty", (unsigned)MALLCTL_ARENAS_ALL);
    for (;;) {
        uint64_t epoch = 1;
        size_t sz = sizeof epoch;
        mallctl("epoch", &epoch, &sz, &epoch, sz);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        FILE *f = fopen(out, "a");
        if (f) {
            fprintf(f, "%lld %zu %zu %zu %zu\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, get("stats.allocated"),
                    get("stats.active"), get("stats.resident"), get(dirty));
            fclose(f);
        }
        // Live regions per size class (small bins, then large extents): "<ms> size:count ..." per sample.
        char path[512];
        snprintf(path, sizeof path, "%s.bins", out);
        FILE *b = fopen(path, "a");
        if (b) {
            unsigned nbins = 0, nl = 0;
            size_t n = sizeof nbins;
            mallctl("arenas.nbins", &nbins, &n, NULL, 0);
            n = sizeof nl;
            mallctl("arenas.nlextents", &nl, &n, NULL, 0);
            fprintf(b, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
            char name[128];
            for (unsigned i = 0; i < nbins + nl; i++) {
                size_t size, count;
                if (i < nbins) {
                    snprintf(name, sizeof name, "arenas.bin.%u.size", i);
                    size = get(name);
                    snprintf(name, sizeof name, "stats.arenas.%u.bins.%u.curregs", (unsigned)MALLCTL_ARENAS_ALL, i);
                } else {
                    snprintf(name, sizeof name, "arenas.lextent.%u.size", i - nbins);
                    size = get(name);
                    snprintf(name, sizeof name, "stats.arenas.%u.lextents.%u.curlextents", (unsigned)MALLCTL_ARENAS_ALL, i - nbins);
                }
                count = get(name);
                if (count) fprintf(b, " %zu:%zu", size, count);
            }
            fprintf(b, "\n");
            fclose(b);
        }
        usleep(period * 1000);
    }
    return NULL;
}

__attribute__((constructor)) static void start(void) {
    const char *out = getenv("JEMSTATS_OUT");
    if (!out || !*out) return;
    pthread_t t;
    pthread_create(&t, NULL, loop, strdup(out));
    pthread_detach(t);
}
