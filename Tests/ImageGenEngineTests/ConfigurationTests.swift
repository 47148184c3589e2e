import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

@Suite("Configuration loading", .timeLimit(.minutes(1)), .hangWatchdog)
struct ConfigurationTests {
    @Test func defaultsHaveThreeOfflineStyles() throws {
        let config = try EngineConfiguration.load(file: nil, environment: [:])
        #expect(config.styles.map(\.name) == ["illustration", "clear", "consistent"])
        for style in config.styles {
            #expect(style.model == "gemini-3.1-flash-image")
            #expect(style.aspectRatio == "16:9")
            #expect(style.imageSize == "1K")
            #expect(style.providerKind == "offline")
            #expect(style.promptTemplate.contains("{prompt}"))
            #expect(style.continuity == (style.name == "consistent"))
            #expect(style.baseURL == EngineConfiguration.defaultBaseURL)
        }
        #expect(Set(config.styles.map(\.promptTemplate)).count == 3)
        #expect(config.styles[1].render(prompt: "a fox").contains("a fox"))
    }

    @Test func fileSettingsApply() throws {
        let json = """
            {"geminiBaseURL":"http://127.0.0.1:8080","requestsPerMinute":30,"maxInFlightPerProject":2,
             "maxConcurrentRequests":6,"paceMarginPercent":5,"durability":"none","retry":{"maxAttempts":3,"baseDelaySeconds":0.5},
             "offline":{"width":64,"height":36,"latencyMilliseconds":20,"renderLogPath":"/tmp/x.log"},
             "styles":{"clear":{"model":"gemini-3-pro-image","imageSize":"2K","aspectRatio":"4:3","continuity":true,
                                 "keys":["AIzaSecretOne","proj-a:AIzaSecretTwo",{"key":"AIzaSecretThree","project":"proj-a"}],
                                 "requestsPerMinute":5},
                       "noir":{"template":"Film noir: {prompt}"}}}
            """
        let config = try EngineConfiguration.parse(json: Data(json.utf8))
        let clear = try #require(config.style(named: "clear"))
        #expect(clear.model == "gemini-3-pro-image")
        #expect(clear.imageSize == "2K")
        #expect(clear.aspectRatio == "4:3")
        #expect(clear.continuity)
        #expect(clear.requestsPerMinute == 5)
        #expect(clear.maxInFlightPerProject == 2)
        #expect(clear.retry.maxAttempts == 3)
        #expect(clear.retry.baseDelay == .milliseconds(500))
        #expect(clear.baseURL == "http://127.0.0.1:8080")
        #expect(clear.keys.map(\.project) == ["clear#1", "proj-a", "proj-a"])
        #expect(clear.keys.map(\.label) == ["clear#1…tOne", "clear#2…tTwo", "clear#3…hree"])
        #expect(clear.providerKind == "gemini")
        #expect(config.style(named: "illustration")?.requestsPerMinute == 30)
        #expect(config.style(named: "noir")?.promptTemplate == "Film noir: {prompt}")
        #expect(config.maxConcurrentRequests == 6)
        #expect(config.durability == .none)
        #expect(config.paceMarginPercent == 5)
        #expect(config.offline == OfflineSettings(width: 64, height: 36, latency: .milliseconds(20), renderLogPath: "/tmp/x.log"))
        #expect(EngineConfiguration().paceMarginPercent == 0.5, "the server's side of arrival jitter; the client's is measured")
    }

    @Test func environmentOverridesFile() throws {
        let json = #"{"requestsPerMinute":30,"styles":{"clear":{"keys":["AIzaFromFile1234"]}}}"#
        let config = try EngineConfiguration.parse(
            json: Data(json.utf8),
            environment: [
                "IMAGEGEN_KEYS_CLEAR": "proj-1:AIzaEnvKeyAAAA, proj-1:AIzaEnvKeyBBBB,AIzaEnvKeyCCCC",
                "IMAGEGEN_KEYS_CONSISTENT": "AIzaConsistent9",
                "IMAGEGEN_GEMINI_BASE_URL": "https://example.test",
                "IMAGEGEN_KEY_RPM": "120",
                "IMAGEGEN_OFFLINE_LATENCY_MS": "15",
                "PATH": "/usr/bin",
            ])
        let clear = try #require(config.style(named: "clear"))
        #expect(clear.keys.map(\.secret) == ["AIzaEnvKeyAAAA", "AIzaEnvKeyBBBB", "AIzaEnvKeyCCCC"])
        #expect(clear.keys.map(\.project) == ["proj-1", "proj-1", "clear#3"])
        #expect(config.style(named: "consistent")?.keys.count == 1)
        #expect(config.style(named: "illustration")?.keys.isEmpty == true)
        #expect(config.styles.allSatisfy { $0.baseURL == "https://example.test" && $0.requestsPerMinute == 120 })
        #expect(config.offline.latency == .milliseconds(15))
    }

    /// A pace is a number, "auto" (learn it: nil) or 0 (unpaced) at every level: top, style, quota;
    /// the most specific wins, and IMAGEGEN_KEY_RPM replaces the styles' (not a quota's own).
    @Test func pacesAtEveryLevel() throws {
        let json = #"""
            {"requestsPerMinute":"auto","styles":{"clear":{"requestsPerMinute":40},"consistent":{"requestsPerMinute":0}},
             "quotas":{"film-a":{"gemini-3-pro-image":20,"gemini-3.1-flash-image":"auto"}}}
            """#
        let config = try EngineConfiguration.parse(json: Data(json.utf8), environment: [:])
        let clear = try #require(config.style(named: "clear"))
        #expect(clear.requestsPerMinute == 40)
        #expect(config.style(named: "consistent")?.requestsPerMinute == 0)
        #expect(config.style(named: "illustration")?.requestsPerMinute == nil, "auto")
        #expect(config.pace(of: QuotaID(project: "film-a", model: "gemini-3-pro-image"), style: clear) == 20)
        #expect(config.pace(of: QuotaID(project: "film-a", model: "gemini-3.1-flash-image"), style: clear) == nil, "auto for that quota")
        #expect(config.pace(of: QuotaID(project: "film-b", model: "gemini-3-pro-image"), style: clear) == 40, "the style's")
        let fromEnvironment = try EngineConfiguration.parse(json: Data(json.utf8), environment: ["IMAGEGEN_KEY_RPM": "auto"])
        #expect(fromEnvironment.styles.allSatisfy { $0.requestsPerMinute == nil })
        #expect(fromEnvironment.quotaPaces[QuotaID(project: "film-a", model: "gemini-3-pro-image")] == 20)
        #expect(try EngineConfiguration.parse(json: Data("{}".utf8), environment: [:]).styles.allSatisfy { $0.requestsPerMinute == nil },
                "the default is to learn it")
    }

    @Test func loadsFromFile() throws {
        let dir = TempDirectory("config")
        let file = dir.url.appendingPathComponent("imagegen.json")
        try Data(#"{"styles":{"illustration":{"template":"Ink: {prompt}"}}}"#.utf8).write(to: file)
        let config = try EngineConfiguration.load(file: file, environment: [:])
        #expect(config.style(named: "illustration")?.promptTemplate == "Ink: {prompt}")
        let missing = #expect(throws: EngineError.self) {
            try EngineConfiguration.load(file: dir.url.appendingPathComponent("nope.json"), environment: [:])
        }
        #expect(missing?.message.contains("nope.json") == true)
    }

    @Test(arguments: [
        (#"{}"#, ["IMAGEGEN_KEYS_SEPIA": "AIzaKey12345"], "IMAGEGEN_KEYS_SEPIA: unknown style \"sepia\""),
        (#"{}"#, ["IMAGEGEN_KEYS_CLEAR": "AIzaKey12345,,AIzaKey67890"], "IMAGEGEN_KEYS_CLEAR entry 2: key is empty"),
        (#"{}"#, ["IMAGEGEN_KEYS_CLEAR": "proj-x:"], "IMAGEGEN_KEYS_CLEAR entry 1: key is empty (project \"proj-x\")"),
        (#"{}"#, ["IMAGEGEN_KEYS_CLEAR": ":AIzaKey12345"], "IMAGEGEN_KEYS_CLEAR entry 1: project before \":\" is empty"),
        (#"{}"#, ["IMAGEGEN_GEMINI_BASE_URL": "ftp://x"], "gemini base URL \"ftp://x\""),
        (#"{}"#, ["IMAGEGEN_GEMINI_BASE_URL": "not a url"], "gemini base URL \"not a url\""),
        (#"{}"#, ["IMAGEGEN_KEY_RPM": "-3"], "IMAGEGEN_KEY_RPM: \"-3\" must be a number"),
        (#"{}"#, ["IMAGEGEN_KEY_RPM": "fast"], "IMAGEGEN_KEY_RPM: \"fast\""),
        (#"{"requestsPerMinute":-1}"#, [:], "requestsPerMinute: -1.0 must be 0 or more"),
        (#"{"styles":{"clear":{"requestsPerMinute":-5}}}"#, [:], "styles.clear.requestsPerMinute: -5.0 must be 0 or more"),
        (#"{"styles":{"sepia":{"model":"m"}}}"#, [:], "styles.sepia: unknown style \"sepia\""),
        (#"{"styles":{"clear":{"keys":[""]}}}"#, [:], "styles.clear.keys[0]: key is empty"),
        (#"{"styles":{"clear":{"imageSize":"1k"}}}"#, [:], "styles.clear.imageSize: \"1k\" must be 1K, 2K or 4K"),
        (#"{"styles":{"clear":{"aspectRatio":"16x9"}}}"#, [:], "styles.clear.aspectRatio: \"16x9\""),
        (#"{"styles":{"clear":{"colour":"red"}}}"#, [:], "styles.clear.colour: unknown setting"),
        (#"{"geminiBaseUrl":"http://x"}"#, [:], "geminiBaseUrl: unknown setting"),
        (#"{"durability":"maybe"}"#, [:], "durability: must be \"full\" or \"none\""),
        (#"{"quotas":[]}"#, [:], "quotas: must be an object keyed by Google Cloud project"),
        (#"{"quotas":{"film a":{"m":5}}}"#, [:], "quotas.film a: \"film a\" is not a Google Cloud project id"),
        (#"{"quotas":{"film-a":5}}"#, [:], "quotas.film-a: must be an object of requests per minute by model"),
        (#"{"quotas":{"film-a":{"m":-5}}}"#, [:], "quotas.film-a.m: -5.0 must be 0 or more"),
        (#"{"quotas":{"film-a":{"m":"fast"}}}"#, [:], "quotas.film-a.m: must be a number of requests per minute or \"auto\", not \"fast\""),
        (#"{"requestsPerMinute":"fast"}"#, [:], "requestsPerMinute: must be a number of requests per minute or \"auto\", not \"fast\""),
        (#"{}"#, ["IMAGEGEN_KEY_RPM": "fast"], "IMAGEGEN_KEY_RPM: \"fast\" must be a number of requests per minute, 0 or more, or \"auto\""),
        (#"{"paceMarginPercent":-1}"#, [:], "paceMarginPercent: -1.0 must be 0 or more"),
        (#"{"paceMarginPercent":150}"#, [:], "paceMarginPercent: must be between 0 and 100, not 150.0"),
        (#"{"maxConcurrentRequests":0}"#, [:], "maxConcurrentRequests: 0.0 must be more than 0"),
        (#"{"styles":{"clear":{"continuity":"yes"}}}"#, [:], "styles.clear.continuity: must be true or false"),
        ("{oops", [:], "not valid JSON"),
    ])
    func refusesBadSettings(json: String, environment: [String: String], expected: String) {
        let error = #expect(throws: EngineError.self) {
            try EngineConfiguration.parse(json: Data(json.utf8), environment: environment)
        }
        #expect(error?.code == .invalidConfiguration)
        let text = error?.description ?? ""
        #expect(text.contains(expected), "\(text)")
        #expect(!text.contains("AIzaKey12345"))
    }

    @Test func reportsAllProblemsAtOnce() {
        let error = #expect(throws: EngineError.self) {
            try EngineConfiguration.parse(
                json: Data(#"{"requestsPerMinute":-1,"styles":{"clear":{"imageSize":"8K"}}}"#.utf8),
                environment: ["IMAGEGEN_KEYS_BLUE": "k", "IMAGEGEN_GEMINI_BASE_URL": "x"])
        }
        #expect(error?.problems.count == 4)
    }

    @Test(
        "an entry whose part before \":\" is not a Google Cloud project id is one key, never split or printed",
        arguments: [
            "AIzaSecret:PartTwoOfIt", "p1:AIzaShortPrefix", "Project-A:AIzaUpper", "my_project:AIzaUnderscore",
            "proj-:AIzaTrailingHyphen", "1project:AIzaDigitFirst", "abcdefghijklmnopqrstuvwxyz12345:AIzaTooLong",
            "sk:live:AIzaTwoColons",
        ])
    func colonInAKeyIsNotAProject(entry: String) throws {
        let config = try EngineConfiguration.parse(json: Data("{}".utf8), environment: ["IMAGEGEN_KEYS_CLEAR": entry])
        let key = try #require(config.style(named: "clear")?.keys.first)
        #expect(key.secret == entry)
        #expect(key.project == "clear#1")
        let prefix = String(entry.prefix { $0 != ":" })
        let text = "\(key) \(key.debugDescription) \(key.label) \(key.project)"
        #expect(!text.contains(prefix), "\(text)")
    }

    @Test("a Google Cloud project id before \":\" is the key's project", arguments: ["my-project", "film-a1", "abcdef", "a2345678901234567890123456789b"])
    func projectPrefix(project: String) throws {
        let config = try EngineConfiguration.parse(
            json: Data("{}".utf8), environment: ["IMAGEGEN_KEYS_CLEAR": "\(project):AIzaProjectKey1"])
        let key = try #require(config.style(named: "clear")?.keys.first)
        #expect(key.project == project)
        #expect(key.secret == "AIzaProjectKey1")
    }

    @Test func keysPrintOnlyTheirLabel() throws {
        let config = try EngineConfiguration.parse(
            json: Data("{}".utf8), environment: ["IMAGEGEN_KEYS_CLEAR": "proj:AIzaVerySecretValue42"])
        let text = "\(config) \(String(describing: config.styles)) \(String(reflecting: config.styles[1].keys))"
        #expect(!text.contains("AIzaVerySecretValue42"))
        #expect(text.contains("clear#1…ue42"))
    }
}
