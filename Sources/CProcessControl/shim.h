#include <signal.h>
#include <sys/prctl.h>

/// Asks the kernel to send `signal` to this process when its parent thread exits (Linux).
/// prctl is variadic, which Swift cannot call directly.
static inline int gauntlet_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}
