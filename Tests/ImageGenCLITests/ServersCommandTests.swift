@testable import ImageGenCLI
import ImageGenTestSupport
import ImageGenWire
import Testing

/// The lines of `imagegen servers`: a server's id, address, when it was seen, and each job's
/// lease, for every case the database can answer.
@Suite("imagegen servers: the text", .timeLimit(.minutes(1)), .hangWatchdog)
struct ServersCommandTests {
    static let now: Int64 = 1_800_000_000_000

    @Test(arguments: [
        (ServerInfo(serverID: "render-a", address: "10.0.0.5:7420", seenUnixMs: now - 1_500, thisServer: true),
         "render-a  10.0.0.5:7420  seen 1.5s ago  (this server)  0 job(s)\n"),
        (ServerInfo(serverID: "render-b", address: "", seenUnixMs: 0),
         "render-b  -  never registered  0 job(s)\n"),
        (ServerInfo(serverID: "render-c", address: "h:1", seenUnixMs: now - 95_000, jobs: [
            ServerJob(jobID: "job-1", projectDir: "film", leaseExpiresUnixMs: now + 12_300),
            ServerJob(jobID: "job-2", projectDir: "ads/spot", leaseExpiresUnixMs: now - 1),
            ServerJob(jobID: "job-3", projectDir: "x", leaseExpiresUnixMs: 0),
        ]),
         "render-c  h:1  seen 95s ago  3 job(s)\n  job-1  film  lease 12s left\n  job-2  ads/spot  lease expired\n  job-3  x\n"),
        // A clock ahead of the server's: never a negative age.
        (ServerInfo(serverID: "render-d", address: "h:2", seenUnixMs: now + 4_000), "render-d  h:2  seen 0.0s ago  0 job(s)\n"),
    ])
    func eachServerAndLease(server: ServerInfo, expected: String) {
        #expect(ServersCommand.text(server, now: Self.now) == expected)
    }
}
