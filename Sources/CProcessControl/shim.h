#include <signal.h>
#include <sys/prctl.h>

/// Asks the kernel to send `signal` to this process when its parent thread exits (Linux).
/// prctl is variadic, which Swift cannot call directly.
static inline int gauntlet_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

#include <malloc.h>
#include <limits.h>

/// Serves every allocation from the heap (never from fresh mmap'd pages) and never returns
/// freed heap memory to the system, so that large buffers freed and allocated again on every
/// step reuse pages that are already mapped. Returns 1 when glibc accepted both settings.
static inline int gauntlet_keep_freed_memory_mapped(void) {
    return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
}
