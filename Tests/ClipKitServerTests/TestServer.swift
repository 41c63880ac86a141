import AsyncHTTPClient
import ClipKitLedger
import ClipKitPostgresHarness
import ClipKitServer
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A real `ClipServer` on 127.0.0.1 and a free port, over a fresh ledger (a SQLite file in its data
/// directory, or a new database on the process's private PostgreSQL cluster), with one API token.
struct TestServer {
    static let webhookSecret = "whsec_server-tests"
    /// One client for the process (never shut down): redirects are not followed, so a test sees the 303.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    let server: ClipServer
    let store: any LedgerStore
    let data: String
    let token: String

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    static func with(_ backend: LedgerBackend, _ body: (TestServer) async throws -> Void) async throws {
        let data = NSTemporaryDirectory() + "clipkit-server-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let location: LedgerLocation = switch backend {
        case .sqlite: .defaultLocation(dataDirectory: data)
        case .postgres: try LedgerLocation(parsing: try await PostgresCluster.shared().createDatabase())
        }
        let store = try await Ledger.open(location)
        var server: ClipServer?
        do {
            let secret = try await store.transaction { try await $0.createToken(name: "tests") }.secret
            let configuration = ServerConfiguration(port: 0, dataDirectory: data, maxClipBytes: 64 << 20, webhookSecret: webhookSecret)
            var logger = Logger(label: "clipkit.serve.tests")
            logger.logLevel = .warning
            server = try await ClipServer.start(configuration, store: store, logger: logger)
            try await body(TestServer(server: server!, store: store, data: data, token: secret))
        } catch {
            await server?.stop()
            try? await store.close()
            try? FileManager.default.removeItem(atPath: data)
            throw error
        }
        await server?.stop()
        try await store.close()
        try? FileManager.default.removeItem(atPath: data)
    }

    /// Sends one request; `token: nil` sends no Authorization header.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: Data? = nil,
              token: String?? = .some(nil)) async throws -> Answer {
        var request = HTTPClientRequest(url: server.baseURL + path)
        request.method = method
        let bearer: String? = switch token {
        case .none: nil
        case .some(nil): self.token
        case .some(let value?): value
        }
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await Self.client.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 256 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    /// Sends `token: nil` as "no token at all".
    func anonymous(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: Data? = nil) async throws -> Answer {
        try await send(method, path, headers: headers, body: body, token: .none)
    }

    /// POSTs a clip file's bytes.
    func upload(_ path: String, query: String = "", key: String? = nil) async throws -> Answer {
        var headers = [("Content-Type", "video/mp4")]
        if let key { headers.append(("Idempotency-Key", key)) }
        return try await send(.POST, "/v1/clips" + query, headers: headers, body: try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Files under a folder of the data directory.
    func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: data + "/" + folder)) ?? []).sorted()
    }

    func clipCount() async throws -> Int { try await store.read { try await $0.clips(limit: 1000) }.count }

    /// Headers WaveSpeed would send for `body`, signed with `secret` at `timestamp`.
    static func signedHeaders(id: String, body: Data, timestamp: Int = Int(Date().timeIntervalSince1970),
                              secret: String = webhookSecret) -> [(String, String)] {
        let key = SymmetricKey(data: Data(secret.dropFirst("whsec_".count).utf8))
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: key).map { String(format: "%02x", $0) }.joined()
        return [("Content-Type", "application/json"), ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
                ("webhook-signature", "v3,\(mac)")]
    }
}

/// A binary built beside the test bundle (`clipkit`, `clipkit-engine`).
func builtBinary(_ name: String) -> String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name).path
}

/// Runs blocking work (a child process, ffmpeg making fixtures) on a thread of its own: on the
/// cooperative pool (two threads on a 2-core machine) a child waiting for this process's server would
/// hold a thread the server needs, and two of them deadlock the tests.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// Runs a program to its end off the pool; its stdout and exit status.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil)
    async throws -> (status: Int32, stdout: Data)
{
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
