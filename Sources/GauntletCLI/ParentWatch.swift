import Foundation

/// A child process of an isolated run exits as soon as its parent is gone (killed), so a killed
/// run leaves no orphans writing cells behind a rerun.
enum ParentWatch {
    static func exitWhenOrphaned() {
        let parent = getppid()
        let thread = Thread {
            while getppid() == parent { usleep(100_000) }
            _exit(3)
        }
        thread.name = "gauntlet-parent-watch"
        thread.start()
    }
}
