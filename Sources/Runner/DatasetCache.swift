import Datasets
import Foundation
import Results

/// Datasets loaded once per process, by the canonical JSON of their spec entry.
public final class DatasetCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: DatasetSplits] = [:]
    private var seconds: [String: Double] = [:]

    public init() {}

    func load(_ source: any DatasetSource, key: String, log: (String) -> Void) throws -> DatasetSplits {
        lock.lock()
        defer { lock.unlock() }
        if let data = loaded[key] { return data }
        let start = Date()
        let data = try source.load()
        log(
            "dataset \(type(of: source).kind): \(data.training.count) training, \(data.validation.count) validation, \(data.test.count) test samples (\(fmt(Date().timeIntervalSince(start), 1)) s)"
        )
        loaded[key] = data
        seconds[key] = Date().timeIntervalSince(start)
        return data
    }

    /// How long this process took to load the dataset with this key, for the first trial that
    /// asks; 0 for later ones (and when it was not loaded here), so the time is counted once.
    func claimLoadingSeconds(_ key: String) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return seconds.removeValue(forKey: key) ?? 0
    }
}
