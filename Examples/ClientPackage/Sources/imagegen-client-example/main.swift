// Builds a StartGeneration request; with HOST:PORT, also sends it and prints the job's events.
//   swift run imagegen-client-example                 prints the request
//   swift run imagegen-client-example 127.0.0.1:7420  starts the job and follows it
// The token, when the server has one, comes from IMAGEGEN_AUTH_TOKEN.
import Foundation
import ImageGenClient
import ImageGenWire

let storyboard = Storyboard(shots: [
    Shot(id: "1", beats: [
        Beat(id: "1", prompt: "a lighthouse at dawn, fog rolling in", transition: .hardCut),
        Beat(id: "2", prompt: "the lamp turns toward the sea", transition: .continue),
    ])
])
let request = StartGenerationRequest(projectDir: "film-a", storyboard: storyboard, styles: ["illustration"])
print("StartGeneration: project \(request.projectDir), \(storyboard.shots.count) shot(s), \(request.serializedBytes().count) bytes")

let arguments = CommandLine.arguments.dropFirst()
if let server = arguments.first, let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) {
    let token = ProcessInfo.processInfo.environment["IMAGEGEN_AUTH_TOKEN"]
    let client = try await ImageGenerationClient.connect(host: String(server[..<colon]), port: port, token: token)
    defer { client.close() }
    for try await event in try await client.startGeneration(request) {
        print(event.seq, event.kind.map { "\($0)" } ?? "(no kind)")
    }
}
