import AsyncHTTPClient
import ClipKitCore
import ClipKitListening
import ClipKitMedia
import Foundation
import Hummingbird
import Logging
import NIOCore

/// How to run a sandbox.
public struct SandboxConfiguration: Sendable {
    /// Loopback only by default: the sandbox is for this machine.
    public var host: String
    /// 0 picks a free port (see `SandboxServer.port`).
    public var port: Int
    public var faults: SandboxFaults
    /// The key every request must carry; nil accepts any non-empty key.
    public var apiKey: String?
    /// The secret webhooks are signed with, `whsec_…` as WaveSpeed shows it.
    public var webhookSecret: String
    /// Where rendered clips go; nil uses a temporary folder removed by `stop()`.
    public var directory: String?

    public init(host: String = "127.0.0.1", port: Int = 8089, faults: SandboxFaults = SandboxFaults(),
                apiKey: String? = nil, webhookSecret: String = "whsec_clipkit-sandbox", directory: String? = nil) {
        self.host = host
        self.port = port
        self.faults = faults
        self.apiKey = apiKey
        self.webhookSecret = webhookSecret
        self.directory = directory
    }
}

/// Counters a test or a user reads to check what the sandbox saw.
public struct SandboxStats: Sendable, Hashable, Codable {
    /// Tasks created per protocol (a lost answer still created its task).
    public var created: [String: Int]
    /// Create requests received per protocol, refused ones included.
    public var submitRequests: [String: Int]
    public var webhooksSent: Int
    /// Download requests with a `Range` header, and downloads cut by the fault.
    public var rangeRequests: Int
    public var cutDownloads: Int

    /// Tasks created for one protocol.
    public func created(_ proto: SandboxProtocol) -> Int { created[proto.rawValue] ?? 0 }
}

/// An offline stand-in for DashScope (also under a router's `/alibailian` prefix), WaveSpeed v3 and
/// ModelVerse on one loopback port, returning real MP4 clips and injecting the faults of `SandboxFaults`.
public final class SandboxServer: Sendable {
    /// `http://127.0.0.1:PORT`: the base URL for every protocol.
    public let baseURL: String
    public let port: Int
    public let configuration: SandboxConfiguration
    let state: SandboxState
    private let runTask: Task<Void, any Error>
    private let webhookClient: HTTPClient
    private let ownsDirectory: Bool

    /// Starts a sandbox and returns once it is listening.
    /// - Throws: `SandboxError` when the port cannot be bound or the folder made.
    /// The sandbox answers on threads of its own, as a provider answers from machines of its own: in a
    /// process whose cooperative pool is busy (a test suite waiting on ffmpeg), clients would otherwise
    /// see timeouts a real provider would not cause.
    private static let handlerThreads = MediaExecutor(threads: 2)

    public static func start(_ configuration: SandboxConfiguration) async throws -> SandboxServer {
        let directory = configuration.directory
            ?? NSTemporaryDirectory() + "clipkit-sandbox-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SandboxError("cannot create the sandbox folder \(directory): \(error.localizedDescription)", code: .cannotStart)
        }
        let state = SandboxState(faults: configuration.faults, directory: directory)
        let webhookClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let handlers = Handlers(state: state, configuration: configuration, webhookClient: webhookClient)
        let router = Router()
        handlers.register(on: router)
        let listener = Listener()
        var logger = Logger(label: "clipkit.sandbox")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: listener.bound, logger: logger)
        let port: Int, runTask: Task<Void, any Error>
        do {
            (port, runTask) = try await listener.run(on: Self.handlerThreads, { try await app.run() }) { reason in
                SandboxError("cannot listen on \(configuration.host):\(configuration.port): \(reason)", code: .cannotStart)
            }
        } catch {
            try? await webhookClient.shutdown()
            throw error
        }
        let server = SandboxServer(baseURL: "http://\(configuration.host):\(port)", port: port, configuration: configuration,
                                   state: state, runTask: runTask, webhookClient: webhookClient,
                                   ownsDirectory: configuration.directory == nil)
        await state.setBaseURL(server.baseURL)
        return server
    }

    private init(baseURL: String, port: Int, configuration: SandboxConfiguration, state: SandboxState,
                 runTask: Task<Void, any Error>, webhookClient: HTTPClient, ownsDirectory: Bool) {
        self.baseURL = baseURL
        self.port = port
        self.configuration = configuration
        self.state = state
        self.runTask = runTask
        self.webhookClient = webhookClient
        self.ownsDirectory = ownsDirectory
    }

    /// Stops listening, closes the webhook client and removes a temporary clip folder.
    public func stop() async {
        await state.stopDrivers()
        runTask.cancel()
        _ = await runTask.result
        try? await webhookClient.shutdown()
        if ownsDirectory { try? FileManager.default.removeItem(atPath: state.directory) }
    }

    /// Replaces the faults from now on (tasks already created keep what they drew).
    public func setFaults(_ faults: SandboxFaults) async { await state.setFaults(faults) }

    /// What the sandbox has seen so far.
    public func stats() async -> SandboxStats { await state.stats() }

    /// The base URL a DashScope client uses to reach the sandbox as a router (`…/alibailian`).
    public var routerBaseURL: String { baseURL + "/alibailian" }
}

extension SandboxState {
    func stats() -> SandboxStats {
        SandboxStats(created: Dictionary(uniqueKeysWithValues: created.map { ($0.key.rawValue, $0.value) }),
                     submitRequests: Dictionary(uniqueKeysWithValues: submitRequests.map { ($0.key.rawValue, $0.value) }),
                     webhooksSent: webhooksSent, rangeRequests: rangeRequests, cutDownloads: cutDownloads)
    }
}
