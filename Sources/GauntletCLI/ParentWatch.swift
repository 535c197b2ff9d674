import CProcessControl
import Foundation

/// A child process of an isolated run dies with its parent (killed), so a killed run leaves no
/// orphans writing cells behind a rerun.
enum ParentWatch {
    static func exitWhenOrphaned() {
        let parent = getppid()
        // The kernel kills this process the moment the thread that spawned it exits. That thread
        // is a worker-pool thread of the parent, which lives as long as it needs this worker.
        _ = gauntlet_set_parent_death_signal(SIGKILL)
        // The parent may have died before the request above: the watch covers that, and systems
        // without the request.
        let thread = Thread {
            while getppid() == parent { usleep(100_000) }
            _exit(3)
        }
        thread.name = "gauntlet-parent-watch"
        thread.start()
    }
}
