import Datasets
import Foundation
import Tensors

/// One pass of the image-folder loader over every image of a folder (`--loader DIR`): the
/// header scan, then shuffled batches decoded on `threads` threads and handed to a consumer
/// that only reads them; images per second and this process's peak resident memory (with freed
/// memory kept mapped, as `gauntlet run` keeps it). Run once
/// per configuration (peak memory is per process): `benchmarks/loader.sh` runs the set.
struct LoaderBenchmark {
    var folder: String
    var threads: Int
    var batchSize: Int
    var resize: Int?

    func run() throws {
        Memory.keepFreedMemoryMapped()  // as `gauntlet run` does
        let source = ImageFolderSource(
            root: folder, resize: resize.map { [$0, $0] }, loaderThreads: threads, prefetch: 2 * threads)
        var dataset: ImageDataset!
        let scan = try seconds { () throws(DatasetError) in dataset = try source.everyImageStreamed() }
        let afterScan = peakRSS()
        // Two passes (two epochs): the first also pays for the batches' first touch of memory.
        var rng: RandomSource? = RandomSource(seed: 1)
        var checksum = 0.0
        var images = 0
        var passes: [Double] = []
        for _ in 0..<2 {
            let loader = dataset.loader(batchSize: batchSize, shuffledWith: &rng)
            images = 0
            passes.append(
                try seconds { () throws(DatasetError) in
                    while let batch = try loader.next() {
                        checksum += Double(batch.images.scalars[0])
                        images += batch.count
                    }
                })
        }
        print(
            String(
                format:
                    "images %d  shape %@  threads %d  batch %d  scan %.2f s  passes %.2f s, %.2f s  %.0f images/s (second pass)  peak RSS %.1f MiB (%.1f after the scan)  (checksum %.3f)",
                images, "\(dataset.sampleShape)", threads, batchSize, scan, passes[0], passes[1], Double(images) / passes[1],
                peakRSS(), afterScan, checksum))
    }

    /// This process's peak resident memory so far, MiB.
    private func peakRSS() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    private func seconds(_ body: () throws(DatasetError) -> Void) throws(DatasetError) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
