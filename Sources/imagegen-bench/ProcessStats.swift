import Foundation

/// Figures about this process and machine read from `/proc` and the process CPU clock.
enum ProcessStats {
    /// Peak resident set size (VmHWM in /proc/self/status), in bytes; 0 when unreadable.
    static func peakRSSBytes() -> Double {
        statusField("VmHWM")
    }

    /// Current resident set size (VmRSS), in bytes.
    static func currentRSSBytes() -> Double {
        statusField("VmRSS")
    }

    /// User plus system CPU time of this process so far, in seconds.
    static func cpuSeconds() -> Double {
        var time = timespec()
        guard clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The number of online processors.
    static var processorCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    private static func statusField(_ name: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.split(separator: " ").compactMap { Double($0) }
            if let kilobytes = digits.first { return kilobytes * 1024 }
        }
        return 0
    }
}
