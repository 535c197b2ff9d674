// A pool of helper threads for short parallel jobs (`gauntlet_pool_run`).
//
// Publishing a job: the caller fills a job record on its stack, points `current` at it and
// bumps `generation`. Helpers watch `generation`: spinning for a while after each job, then
// asleep on `wake` (the caller broadcasts when any helper sleeps). A helper that sees a new
// generation announces itself in `active`, reads `current`, takes parts while any are left, and
// leaves `active`. The caller takes parts too until none is left, clears `current` and waits
// until `active` is 0: a helper that read the record is counted in `active` from before its
// read to after its last part returned (all accesses sequentially consistent), so every part
// has returned and the record is never read after the caller returns.
#include "worker_threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_HELPERS = 63 };

typedef struct {
    gauntlet_task task;
    void *context;
    ptrdiff_t parts;
    atomic_long next;      // the next part to take
    unsigned long id;      // the generation this job was published as
} job_record;

static atomic_flag in_use = ATOMIC_FLAG_INIT;   // held by the caller of the running job
static _Atomic(job_record *) current = NULL;
static atomic_ulong generation = 0;
static atomic_long active = 0;                    // helpers between announcing and leaving a job
static atomic_long sleepers = 0;
static atomic_long spin_limit_ns = 200000;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int helpers_started = 0;            // written under start_lock

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// Takes and runs parts of `job` until none is left.
static void take_parts(job_record *job) {
    for (;;) {
        long part = atomic_fetch_add(&job->next, 1);
        if (part >= job->parts) return;
        job->task(job->context, part);
    }
}

// Returns once `generation` differs from `seen`: spinning first, then asleep.
static unsigned long wait_for_generation(unsigned long seen) {
    int64_t deadline = now_ns() + atomic_load(&spin_limit_ns);
    unsigned spins = 0;
    for (;;) {
        unsigned long g = atomic_load(&generation);
        if (g != seen) return g;
        CPU_RELAX();
        if (++spins % 256 == 0 && now_ns() > deadline) break;
    }
    pthread_mutex_lock(&wake_lock);
    atomic_fetch_add(&sleepers, 1);
    unsigned long g;
    while ((g = atomic_load(&generation)) == seen) pthread_cond_wait(&wake, &wake_lock);
    atomic_fetch_sub(&sleepers, 1);
    pthread_mutex_unlock(&wake_lock);
    return g;
}

static void *helper_main(void *unused) {
    (void)unused;
    unsigned long seen = atomic_load(&generation);
    for (;;) {
        seen = wait_for_generation(seen);
        atomic_fetch_add(&active, 1);
        job_record *job = atomic_load(&current);
        if (job != NULL && job->id == seen) take_parts(job);
        atomic_fetch_sub(&active, 1);
    }
    return NULL;
}

// A forked child has none of the parent's helpers (only the forking thread): it starts with an
// empty pool, whatever state the parent's threads were in.
static void reset_in_child(void) {
    atomic_flag_clear(&in_use);
    atomic_store(&current, NULL);
    atomic_store(&active, 0);
    atomic_store(&sleepers, 0);
    pthread_mutex_init(&wake_lock, NULL);
    pthread_cond_init(&wake, NULL);
    pthread_mutex_init(&start_lock, NULL);
    atomic_store(&helpers_started, 0);
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void install_fork_handler(void) { pthread_atfork(NULL, NULL, reset_in_child); }

// Starts helpers until there are `count` (at most MAX_HELPERS). Once they are there, a job
// only reads the count: no lock on the way to every job.
static void start_helpers(int count) {
    if (count > MAX_HELPERS) count = MAX_HELPERS;
    if (atomic_load(&helpers_started) >= count) return;
    pthread_once(&fork_handler_once, install_fork_handler);
    pthread_mutex_lock(&start_lock);
    while (atomic_load(&helpers_started) < count) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, helper_main, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        atomic_fetch_add(&helpers_started, 1);
    }
    pthread_mutex_unlock(&start_lock);
}

int gauntlet_pool_run(ptrdiff_t parts, ptrdiff_t threads, gauntlet_task task, void *context, long spin_microseconds) {
    if (atomic_flag_test_and_set(&in_use)) return 0;
    atomic_store(&spin_limit_ns, spin_microseconds * 1000);
    if (threads > 1) start_helpers((int)(threads - 1));
    job_record job = {.task = task, .context = context, .parts = parts};
    atomic_init(&job.next, 0);
    job.id = atomic_load(&generation) + 1;
    atomic_store(&current, &job);
    atomic_store(&generation, job.id);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&wake_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&wake_lock);
    }
    take_parts(&job);
    // Every part is taken; those the helpers took have returned once no helper is active.
    atomic_store(&current, NULL);
    unsigned spins = 0;
    while (atomic_load(&active) != 0) {
        CPU_RELAX();
        if (++spins % 4096 == 0) sched_yield();
    }
    atomic_flag_clear(&in_use);
    return 1;
}
