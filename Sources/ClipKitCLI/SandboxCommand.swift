import ArgumentParser
import ClipKitConsole
import ClipKitSandbox
import Foundation

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run an offline server speaking the DashScope, WaveSpeed and ModelVerse video APIs.",
        discussion: """
            One loopback port serves all three protocols with their paths, headers, status names, usage
            shapes and error bodies, and answers with real MP4 clips (Wan 2.2: 30 fps, 5 s, silent; Wan 2.5:
            24 fps with audio; the open model on WaveSpeed/ModelVerse: 16 fps, 81 frames):
              DashScope   POST /api/v1/services/aigc/video-generation/video-synthesis   (also under /alibailian)
                          POST /api/v1/services/aigc/image2video/video-synthesis        GET /api/v1/tasks/{id}
              WaveSpeed   POST /api/v3/{model-path}[?webhook=URL]   GET /api/v3/predictions/{id}/result
                          POST /api/v3/media/upload/binary          POST /api/v3/predictions (history)
              ModelVerse  POST /v1/tasks/submit   GET /v1/tasks/status?task_id=   GET /v1/tasks/cancel?task_id=
            GET /sandbox/stats counts the tasks created per protocol. Faults (latency, queue time, 429/500
            rates, failed and blocked tasks, expired URLs, cut downloads, short clips, wrong tier, lost
            answers, task expiry) come from a JSON file; see docs/providers.md.

            Examples:
              clipkit sandbox
              clipkit sandbox --port 9000 --faults faults.json
              DASHSCOPE_BASE_URL=http://127.0.0.1:8089 DASHSCOPE_API_KEY=sk-any \\
                clipkit generate --provider dashscope --prompt "a lighthouse at dusk" -o clip.mp4

            Exit codes: 0 stopped by SIGINT/SIGTERM; 2 bad arguments or faults file; 3 the port cannot be bound.
            """
    )

    @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
    var port = 8089

    @Option(help: "JSON faults file (see docs/providers.md).")
    var faults: String?

    @Option(help: "Accept only this API key (default: any non-empty key).")
    var apiKey: String?

    @Option(help: "Secret WaveSpeed webhooks are signed with.")
    var webhookSecret = "whsec_clipkit-sandbox"

    @Option(help: "Folder for rendered clips (default: a temporary folder removed on exit).")
    var directory: String?

    func run() async throws {
        var configuration = SandboxConfiguration(port: port, apiKey: apiKey, webhookSecret: webhookSecret, directory: directory)
        if let faults { configuration.faults = try SandboxFaults.load(faults) }
        let server = try await SandboxServer.start(configuration)
        Stderr.print("clipkit sandbox listening on \(server.baseURL) (DashScope router prefix: \(server.routerBaseURL))")
        Stderr.print("webhook secret: \(configuration.webhookSecret); Ctrl-C stops")
        await SignalWait.untilInterrupted()
        await server.stop()
    }
}

/// Waits for SIGINT or SIGTERM.
enum SignalWait {
    static func untilInterrupted() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once()
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    if once.first() { continuation.resume() }
                }
                source.resume()
                Sources.keep(source)
            }
        }
    }

    /// Signal sources must outlive the wait.
    private enum Sources {
        nonisolated(unsafe) private static var kept: [any DispatchSourceSignal] = []
        static func keep(_ source: any DispatchSourceSignal) { kept.append(source) }
    }

    private final class Once: @unchecked Sendable {
        private let lock = NSLock()
        private var fired = false
        func first() -> Bool { lock.withLock { defer { fired = true }; return !fired } }
    }
}
