import Foundation
import ImageGenCoordination
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// A coordination URL that points at something that is not PostgreSQL: the server never waits
/// on it longer than the connect timeout, says what is wrong, drops the connection and tries again.
@Suite(.timeLimit(.minutes(1)), .hangWatchdog)
struct DatabaseHandshakeTests {
    @Test(arguments: MisbehavingPeer.Behaviour.allCases)
    func aPeerThatIsNotPostgresIsGivenUpOnAndTriedAgain(behaviour: MisbehavingPeer.Behaviour) async throws {
        let peer = try await MisbehavingPeer(behaviour)
        var settings = CoordinationSettings(host: "127.0.0.1", port: peer.port, username: "imagegen", database: "imagegen")
        // The default 2 s: a connect to loopback that the peer closes at once completes well
        // within it even on a loaded machine (500 ms did not, once, with the whole suite running).
        settings.connectTimeout = .seconds(2)
        settings.reconnectDelay = .milliseconds(100)
        let recorder = CoordinationRecorder()
        let database = CoordinationDatabase(settings: settings, observer: recorder, logger: CoordinationRig.logger)
        let start = ContinuousClock.now
        let port = peer.port
        let (reason, took) = try await CoordinationDatabase.whileRunning([database]) { () -> (String, Duration) in
            let reason: String
            do throws(CoordinationUnavailable) {
                try await database.withConnection { _ in }
                reason = "connected"
            } catch {
                reason = error.reason
            }
            let took = ContinuousClock.now - start
            // It goes on trying, each attempt bounded.
            let deadline = ContinuousClock.now + .seconds(20)
            while peer.accepted < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            return (reason, took)
        }
        print("handshake \(behaviour): \(reason) (\(took))")
        let endpoint = "the coordination database cannot be used: postgres://imagegen@127.0.0.1:\(port)/imagegen: "
        switch behaviour {
        case .silent, .http:
            #expect(reason == endpoint + "no answer to the PostgreSQL handshake within 2000 ms (is it a PostgreSQL server?)")
        case .closes:
            // Closed before or after the client's startup message went out.
            #expect(reason == endpoint + "the server closed the connection" || reason.hasPrefix(endpoint + "cannot connect: "), "\(reason)")
        }
        // The reason proves the first statement waited for the attempt's own end (its timer, or
        // the peer's close), not for the first-attempt deadline (then it would say "connecting to
        // …"). Its wall time is not that proof: on a 2-core machine starting the whole suite, the
        // loop runs late by seconds (the `closes` case, a few ms alone, took 3.5-4.2 s in a loop
        // run). It stays below the bound the code waits at most.
        #expect(took < settings.attemptLimit, "the first statement waited \(took)")
        #expect(peer.accepted >= 3, "\(peer.accepted) attempts")
        #expect(recorder.told.contains(.statement(.other, .notConnected)) && !recorder.told.contains(.connection(available: true)), "\(recorder.told)")
        if behaviour != .closes {
            // Every connection it made is closed by it, the last attempt's too once its timeout passed.
            let deadline = ContinuousClock.now + .seconds(8)
            while peer.closedByClient < peer.accepted, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(peer.closedByClient == peer.accepted, "\(peer.closedByClient) of \(peer.accepted) closed")
        }
        await peer.close()
    }
}
