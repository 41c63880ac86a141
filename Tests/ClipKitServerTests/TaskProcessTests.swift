import AsyncHTTPClient
import ClipKitLedger
import ClipKitPostgresHarness
import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// `clipkit serve` or `clipkit worker` as a process of its own (the built `clipkit-engine`), over a sandbox
/// in this process, so the test can kill it outright and count what the provider was asked for.
final class EngineProcess: Sendable {
    let process: Process
    /// What the start line named: the server's base URL, the worker's id.
    let name: String
    /// Everything the process wrote on stderr (drained continuously: a full pipe would stall its logging).
    private let log: Log

    final class Log: Sendable {
        let text = Mutex("")
        func append(_ chunk: Data) { text.withLock { $0 += String(decoding: chunk, as: UTF8.self) } }
    }

    private init(process: Process, name: String, log: Log) {
        self.process = process
        self.name = name
        self.log = log
    }

    var baseURL: String { name }
    var stderr: String { log.text.withLock { $0 } }

    /// `clipkit serve` on a free port. - Parameter ledger: `--data` and, for PostgreSQL, `--database`.
    static func serve(ledger: [String], sandbox: String, environment: [String: String] = [:]) async throws -> EngineProcess {
        try await start(["serve", "--listen", "127.0.0.1:0", "--sandbox", sandbox] + ledger,
                        ready: #"listening on (http://[0-9.:]+)"#, skip: "listening on ", environment: environment)
    }

    /// `clipkit worker`, started once it says it runs jobs.
    static func worker(ledger: [String], sandbox: String, lease: Int) async throws -> EngineProcess {
        try await start(["worker", "--sandbox", sandbox, "--lease", String(lease)] + ledger,
                        ready: #"clipkit worker [^ ]+ running"#, skip: "clipkit worker ")
    }

    /// Starts the engine and waits for the line `ready` matches; `name` is the word after `skip` in it.
    private static func start(_ arguments: [String], ready: String, skip: String,
                              environment: [String: String] = [:]) async throws -> EngineProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: builtBinary("clipkit-engine"))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let log = Log()
        let name: String? = try await offPool {
            var found: String?
            var pending = ""
            while found == nil {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                log.append(chunk)
                pending += String(decoding: chunk, as: UTF8.self)
                if let range = pending.range(of: ready, options: .regularExpression) {
                    found = String(pending[range].dropFirst(skip.count).prefix { $0 != " " })
                }
            }
            return found
        }
        Thread {
            while true {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { return }
                log.append(chunk)
            }
        }.start()
        guard let name else {
            process.waitUntilExit()
            throw ServeFailure("clipkit \(arguments[0]) did not start (exit \(process.terminationStatus)): \(log.text.withLock { $0 })")
        }
        return EngineProcess(process: process, name: name, log: log)
    }

    /// SIGKILL: no shutdown of any kind, as when a machine dies.
    func kill() async throws {
        Foundation.kill(process.processIdentifier, SIGKILL)
        try await offPool { self.process.waitUntilExit() }
    }

    /// SIGTERM, then the exit status of the graceful shutdown.
    func terminate() async throws -> Int32 {
        process.terminate()
        try await offPool { self.process.waitUntilExit() }
        return process.terminationStatus
    }

    /// Sends `json` (as application/json) or `body` (with its Content-Type in `headers`).
    func send(_ method: HTTPMethod, _ path: String, token: String, headers: [(String, String)] = [],
              json: String? = nil, body: String? = nil) async throws -> TestServer.Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body {
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await TestServer.client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return TestServer.Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }
}

struct ServeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite("serve: tasks")
struct TaskProcessTests {
    static let request = #"{"provider": "sandbox", "model": "wan2.2-t2v-plus", "prompt": "a lighthouse at dusk", "resolution": "480P", "duration": 5}"#

    @Test("a task posted twice with one key is made once; the server killed with SIGKILL mid-task resumes it: one submission, one clip",
          arguments: LedgerBackend.allCases)
    func killedServerResumes(_ backend: LedgerBackend) async throws {
        // Queued and running for seconds: time to kill the server while the provider works on the task.
        let sandbox = try await SandboxServer.start(SandboxConfiguration(
            port: 0, faults: SandboxFaults(queueMs: 1500, runMs: 3000, retryAfterSeconds: 0)))
        let data = NSTemporaryDirectory() + "clipkit-serve-tasks-" + UUID().uuidString.prefix(8)
        do {
            var ledger = ["--data", data]
            if backend == .postgres { ledger += ["--database", try await PostgresCluster.shared().createDatabase()] }
            try await Self.run(sandbox: sandbox, data: data, ledger: ledger)
        } catch {
            await sandbox.stop()
            try? FileManager.default.removeItem(atPath: data)
            throw error
        }
        await sandbox.stop()
        try? FileManager.default.removeItem(atPath: data)
    }

    static func run(sandbox: SandboxServer, data: String, ledger: [String]) async throws {
        let made = try await runProgram(builtBinary("clipkit-engine"), ["token", "create", "--name", "tests"] + ledger)
        #expect(made.status == 0)
        let token = String(decoding: made.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = [("Idempotency-Key", "story-1-segment-1")]

        var server = try await EngineProcess.serve(ledger: ledger, sandbox: sandbox.baseURL)
        let first = try await server.send(.POST, "/v1/tasks", token: token, headers: key, json: request)
        #expect(first.status == 202, "\(first.text)")
        let id = try #require(first.json["id"] as? String)
        let again = try await server.send(.POST, "/v1/tasks", token: token, headers: key, json: request)
        #expect(again.json["id"] as? String == id, "the same key answers the same task")

        // Killed once the provider has the task, before the clip is made.
        try await waitFor("the provider to accept the task") { await sandbox.stats().created(.dashscope) == 1 }
        try await server.kill()
        #expect(!server.stderr.contains(token), "the token is never logged")

        server = try await EngineProcess.serve(ledger: ledger, sandbox: sandbox.baseURL)
        let retried = try await server.send(.POST, "/v1/tasks", token: token, headers: key, json: request)
        #expect(retried.json["id"] as? String == id, "a retried request after the crash still answers the first task")
        var task: [String: Any] = [:]
        // `state` is the provider's; the clip appears once it is downloaded, verified and framed.
        try await waitFor("the task's clip after the restart", seconds: 240) {
            task = (try? await server.send(.GET, "/v1/tasks/\(id)", token: token).json) ?? [:]
            return task["clip"] is [String: Any] || task["error"] is [String: Any] || task["state"] as? String == "failed"
        }
        #expect(task["state"] as? String == "succeeded", "\(task)")
        #expect(await sandbox.stats().created(.dashscope) == 1, "one submission for one request, crash or not")
        let clip = try #require(task["clip"] as? [String: Any], "\(task)")
        #expect((clip["verification"] as? [String: Any])?["passed"] as? Bool == true, "\(clip)")
        let clips = try FileManager.default.contentsOfDirectory(atPath: data + "/clips").filter { $0.hasSuffix(".mp4") }
        #expect(clips.count == 1, "one clip, not lost and not duplicated: \(clips)")
        let listed = try await server.send(.GET, "/v1/tasks?status=succeeded", token: token)
        #expect((listed.json["tasks"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
        #expect(try await server.terminate() == 0, "SIGTERM stops it gracefully: \(server.stderr)")
    }

    static let chain = """
        {"provider": "sandbox", "budget": {"amount": "10", "currency": "CNY"}, "storyboard": {
          "defaults": {"t2vModel": "wan2.2-t2v-plus", "i2vModel": "wan2.2-i2v-flash", "resolution": "480P", "seed": 5},
          "segments": [{"prompt": "a lighthouse at dusk"}, {"prompt": "the camera rises"}, {"prompt": "night falls"}]}}
        """

    @Test("a chain posted over HTTP survives a SIGKILL of the server mid-segment: one submission per segment, one joined video without repeated seam frames, served at its URL",
          arguments: LedgerBackend.allCases)
    func killedServerResumesChain(_ backend: LedgerBackend) async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration(
            port: 0, faults: SandboxFaults(queueMs: 1000, runMs: 1500, retryAfterSeconds: 0)))
        let data = NSTemporaryDirectory() + "clipkit-serve-chain-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: data) }
        do {
            var ledger = ["--data", data]
            if backend == .postgres { ledger += ["--database", try await PostgresCluster.shared().createDatabase()] }
            let made = try await runProgram(builtBinary("clipkit-engine"), ["token", "create", "--name", "tests"] + ledger)
            let token = String(decoding: made.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let key = [("Idempotency-Key", "story-7")]

            var server = try await EngineProcess.serve(ledger: ledger, sandbox: sandbox.baseURL)
            let posted = try await server.send(.POST, "/v1/chains", token: token, headers: key, json: Self.chain)
            #expect(posted.status == 202, "\(posted.text)")
            let id = try #require(posted.json["id"] as? String)
            // Killed while the provider works on the second segment (or, on a machine slow enough, a later one).
            // The bounds are generous: on the loaded 2-core CI machine a segment has taken minutes.
            do {
                try await Self.waitFor("the second segment's submission", seconds: 900) { await sandbox.stats().created(.dashscope) >= 2 }
            } catch {
                throw ServeFailure("\(error); the server said:\n\(server.stderr.suffix(4000))")
            }
            try await server.kill()

            server = try await EngineProcess.serve(ledger: ledger, sandbox: sandbox.baseURL)
            let again = try await server.send(.POST, "/v1/chains", token: token, headers: key, json: Self.chain)
            #expect(again.json["id"] as? String == id, "a retried request after the crash answers the first chain")
            var answer: [String: Any] = [:]
            do {
                try await Self.waitFor("the chain to be joined after the restart", seconds: 1200) {
                    answer = (try? await server.send(.GET, "/v1/chains/\(id)", token: token).json) ?? [:]
                    return ["joined", "failed"].contains(answer["state"] as? String ?? "")
                }
            } catch {
                let jobs = (try? await server.send(.GET, "/v1/jobs?limit=50", token: token).text) ?? ""
                throw ServeFailure("\(error); the chain: \(answer)\njobs: \(jobs)\nthe server said:\n\(server.stderr.suffix(4000))")
            }
            #expect(answer["state"] as? String == "joined", "\(answer)")
            #expect(await sandbox.stats().created(.dashscope) == 3, "one submission per segment, crash or not")
            let segments = answer["segments"] as? [[String: Any]] ?? []
            #expect(segments.map { ($0["tasks"] as? [Any])?.count } == [1, 1, 1], "\(segments)")

            let video = try await server.send(.GET, try #require(answer["videoURL"] as? String), token: token)
            #expect(video.status == 200 && video.headers.first(name: "Content-Type") == "video/mp4")
            let file = data + "/downloaded.mp4"
            try video.body.write(to: URL(fileURLWithPath: file))
            #expect(try Oracle.decodedFrameCount(file) == 150 + 2 * 149, "each seam's repeated frame dropped")
            let sheet = try await server.send(.GET, try #require(answer["contactSheetURL"] as? String), token: token)
            #expect(sheet.status == 200 && sheet.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let budget = answer["budget"] as? [String: Any]
            // Billed exactly: the t2v opening at 0.14 CNY/s and two i2v-flash segments at 0.10, 5 s each.
            #expect((budget?["spent"] as? [String: Any])?["amount"] as? String == "1.70", "\(String(describing: budget))")
            #expect((budget?["reserved"] as? [String: Any])?["amount"] as? String == "0.00", "\(String(describing: budget))")
            #expect(try await server.terminate() == 0, "SIGTERM stops it gracefully: \(server.stderr)")
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// Polls `done` every 200 ms until it holds.
    static func waitFor(_ what: String, seconds: Double = 60, _ done: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await done() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ServeFailure("gave up waiting \(Int(seconds)) s for \(what)")
    }
}
