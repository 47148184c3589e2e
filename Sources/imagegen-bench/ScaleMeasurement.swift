/// What one `scale-run` child measured for one storyboard size; printed as one JSON line and read
/// back by `scale`.
struct ScaleMeasurement: Codable, Sendable {
    var beats: Int
    var styles: Int
    var images: Int
    var failed: Int
    var durability: String
    /// The job's wall time.
    var wallSeconds: Double
    /// CPU time (user + system, all threads) of this process during the job.
    var jobCPUSeconds: Double
    /// CPU time of `OfflineProvider.render` per image, measured on one thread before the job.
    var renderCPUPerImageSeconds: Double
    /// Mean size of the PNGs drawn while measuring ``renderCPUPerImageSeconds``.
    var renderBytesPerImage: Double
    /// VmHWM after the job.
    var peakRSSBytes: Double
    /// VmRSS before the storyboard was built.
    var startRSSBytes: Double

    var imagesPerSecond: Double { Double(images) / max(wallSeconds, 1e-9) }
    /// Engine CPU per image other than drawing the image: scheduling, hashing and writing the file,
    /// progress journal and compaction, events.
    var bookkeepingCPUPerImageSeconds: Double {
        max(0, jobCPUSeconds / Double(max(images, 1)) - renderCPUPerImageSeconds)
    }
    /// The job's wall time per image.
    var wallPerImageSeconds: Double { wallSeconds / Double(max(images, 1)) }
}
