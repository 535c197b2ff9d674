#ifndef GAUNTLET_WORKER_THREADS_H
#define GAUNTLET_WORKER_THREADS_H

#include <stddef.h>

/// One part of a job: `task(context, part)`.
typedef void (*gauntlet_task)(void *context, ptrdiff_t part);

/// Runs `task(context, p)` for every `p` in `0 ..< parts` on the calling thread and up to
/// `threads − 1` helper threads of a process-wide pool, and returns once every part has
/// returned. Each participant takes the next part not yet taken until none is left, so a part
/// runs exactly once, on whichever thread takes it first.
///
/// The helpers are started on first use and kept: after a job, each waits for the next one by
/// spinning for about `spin_microseconds` (so that the many short jobs of a training step find
/// it awake; on virtual machines, waking a sleeping thread costs tens of microseconds), then
/// sleeps on a condition variable. Returns 0, running nothing, when another thread's job holds
/// the pool (the caller runs its parts another way), else 1.
int gauntlet_pool_run(ptrdiff_t parts, ptrdiff_t threads, gauntlet_task task, void *context, long spin_microseconds);

#endif
