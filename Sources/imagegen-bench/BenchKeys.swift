import ImageGenEngine

/// Keys for the runs against the fake: `count` keys per style, each key its own project, or with
/// `sharedProjects` key i of every style in the same project "shared-p<i>".
struct BenchKeys: Sendable {
    /// The keys of each style, by style name.
    let keysByStyle: [String: [APIKey]]

    init(styles: [String], count: Int, sharedProjects: Bool = false) {
        var keys: [String: [APIKey]] = [:]
        for style in styles {
            keys[style] = (1...max(count, 1)).map { index in
                APIKey(
                    secret: "AIzaBench-\(style)-\(index)-secret", project: sharedProjects ? "shared-p\(index)" : "\(style)-p\(index)",
                    style: style, index: index)
            }
        }
        keysByStyle = keys
    }

    /// secret → project, for `FakeGeminiConfiguration.keys`.
    var fakeKeys: [String: String] {
        var map: [String: String] = [:]
        for keys in keysByStyle.values {
            for key in keys { map[key.secret] = key.project }
        }
        return map
    }

    /// The number of projects (quota groups) across styles.
    var projectCount: Int { Set(keysByStyle.values.flatMap { $0.map(\.project) }).count }
}
