import CProcessControl

/// Process-wide memory settings for the numeric work.
public enum Memory {
    /// A training or attack step allocates and frees the same large tensors (a batch's
    /// activations, patch columns) again and again. glibc serves requests above its mmap
    /// threshold (at most 32 MiB) with fresh pages that the kernel zero-fills on first touch,
    /// one page fault per 4 KiB, on every step. Serving everything from the heap and never
    /// trimming it makes a freed buffer's pages serve the next one; the resident size stays
    /// at its high-water mark. Call once, at process start. Returns whether glibc accepted it.
    @discardableResult
    public static func keepFreedMemoryMapped() -> Bool {
        gauntlet_keep_freed_memory_mapped() == 1
    }
}
