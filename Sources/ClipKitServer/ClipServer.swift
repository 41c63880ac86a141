import ClipKitLedger
import ClipKitListening
import ClipKitProviders
import ClipKitService
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import Synchronization

/// How to run `clipkit serve`.
public struct ServerConfiguration: Sendable {
    /// Loopback by default: put a TLS proxy in front before listening on other interfaces.
    public var host: String
    /// 0 picks a free port (see `ClipServer.port`).
    public var port: Int
    /// Holds `clips/`, `frames/` and `tmp/` (uploads in progress), and by default the SQLite ledger.
    public var dataDirectory: String
    /// The largest clip accepted, as an upload or a download.
    public var maxClipBytes: Int64
    /// `WAVESPEED_WEBHOOK_SECRET` (`whsec_…`); nil: the webhook route answers 503.
    public var webhookSecret: String?
    /// Generation requests (`/v1/tasks`); nil: those routes answer 503 `notConfigured`. Its handlers run
    /// on the server's `JobWorker`.
    public var tasks: TaskService?
    /// More job handlers by kind; a kind without one waits in the queue.
    public var jobHandlers: [String: JobWorker.Handler]
    /// The server's own job worker; nil: none (an API node beside `clipkit worker` processes).
    public var worker: JobWorker.Configuration?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String = "clipkit-data",
        maxClipBytes: Int64 = 1 << 30, webhookSecret: String? = nil, tasks: TaskService? = nil,
        jobHandlers: [String: JobWorker.Handler] = [:],
        worker: JobWorker.Configuration? = JobWorker.Configuration()
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.maxClipBytes = maxClipBytes
        self.webhookSecret = webhookSecret
        self.tasks = tasks
        self.jobHandlers = jobHandlers
        self.worker = worker
    }
}

/// A failure to start the server, naming what could not be done.
public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `clipkit serve`: the HTTP API and the dashboard over a ledger, and a `JobWorker` for its queue, in one
/// swift-service-lifecycle `ServiceGroup`. A graceful shutdown (SIGTERM/SIGINT when asked for, or
/// `stop()`) closes the listener first, then lets running jobs finish within the worker's grace.
/// The store is the caller's: close it after `wait()` returns.
public final class ClipServer: Sendable {
    /// The port listened on (the chosen one when configured with 0).
    public let port: Int
    public let configuration: ServerConfiguration
    /// Every route as `METHOD /path` with `{parameters}`, as the OpenAPI document names them.
    public let routes: [String]
    private let group: ServiceGroup
    private let runTask: Task<Void, any Error>

    public var baseURL: String { "http://\(configuration.host):\(port)" }

    /// Starts listening and working; returns once the port is bound.
    /// - Parameter handleSignals: SIGTERM and SIGINT begin a graceful shutdown (`serve`; not in tests).
    /// - Throws: `ServerError` when the data directory cannot be made or the address cannot be bound.
    public static func start(
        _ configuration: ServerConfiguration, store: any LedgerStore, handleSignals: Bool = false,
        logger: Logger = Logger(label: "clipkit.serve")
    ) async throws -> ClipServer {
        let data = try DataDirectory(configuration.dataDirectory)
        let routes = Routes(store: store, data: data, configuration: configuration)
        let router = routes.makeRouter()
        let listener = Listener()
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: listener.bound, logger: logger)
        let handlers = configuration.jobHandlers.merging(configuration.tasks?.handlers() ?? [:]) { mine, _ in mine }
            .reduce(into: [String: JobWorker.Handler]()) { $0[$1.key] = routes.metrics.timed($1.key, $1.value) }
        let worker = configuration.worker.map { JobWorker(store: store, configuration: $0, handlers: handlers, logger: logger) }
        // Shut down in reverse order: the listener first, then the worker drains its running jobs.
        let services: [any Service] = (worker.map { [$0] } ?? []) + [app]
        let group = ServiceGroup(services: services,
                                 gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], cancellationSignals: [], logger: logger)
        let (port, runTask) = try await listener.run({ try await group.run() }) { reason in
            ServerError("cannot listen on \(configuration.host):\(configuration.port): \(reason)")
        }
        return ClipServer(port: port, configuration: configuration, routes: routes.registered, group: group, runTask: runTask)
    }

    private init(port: Int, configuration: ServerConfiguration, routes: [String], group: ServiceGroup,
                 runTask: Task<Void, any Error>) {
        self.port = port
        self.configuration = configuration
        self.routes = routes
        self.group = group
        self.runTask = runTask
    }

    /// Waits until the server has shut down.
    /// - Throws: what a service threw.
    public func wait() async throws { try await runTask.value }

    /// Begins a graceful shutdown and waits for it.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await runTask.result
    }
}

/// The data directory's layout: `clips/ID.mp4`, `frames/ID-first.png`, `tmp/` for transfers in progress
/// (always on the same file system, so finished files are renamed into place).
struct DataDirectory: Sendable {
    let root: String

    init(_ path: String) throws {
        root = URL(fileURLWithPath: path).standardizedFileURL.path
        for folder in ["clips", "frames", "tmp"] {
            do {
                try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            } catch {
                throw ServerError("cannot create \(root)/\(folder): \(error.localizedDescription)")
            }
        }
    }

    /// An absolute path for a path relative to the data directory.
    func absolute(_ relative: String) -> String { root + "/" + relative }

    func temporaryFile(_ suffix: String) -> String { root + "/tmp/" + UUID().uuidString.lowercased() + suffix }
}

/// Builds the router, noting every route it registers (the OpenAPI document is checked against them).
final class Routes: Sendable {
    let store: any LedgerStore
    let data: DataDirectory
    let configuration: ServerConfiguration
    let metrics = ServerMetrics()
    let webhookIntake: GroupCommit<ArrivedWebhook, RecordedWebhook>
    /// Nil without a WAVESPEED_WEBHOOK_SECRET.
    let webhookVerifier: WebhookVerifier?
    private let names = Mutex<[String]>([])

    init(store: any LedgerStore, data: DataDirectory, configuration: ServerConfiguration) {
        self.store = store
        self.data = data
        self.configuration = configuration
        webhookIntake = Self.webhookIntake(store: store, tasks: configuration.tasks)
        webhookVerifier = configuration.webhookSecret.flatMap { $0.isEmpty ? nil : WebhookVerifier(secret: $0) }
    }

    var registered: [String] { names.withLock { $0 } }

    /// The methods registered for `path`, whose segments match a route's (`{name}` matches any one).
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return registered.compactMap { route -> String? in
            let parts = route.split(separator: " ", maxSplits: 1)
            let pattern = parts[1].split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == segments.count,
                  zip(pattern, segments).allSatisfy({ $0.hasPrefix("{") && $0.hasSuffix("}") && !$1.isEmpty || $0 == $1 })
            else { return nil }
            return String(parts[0])
        }
    }

    var tasks: TaskService? { configuration.tasks }

    typealias Handler = @Sendable (Request, ServerContext) async throws -> Response

    func makeRouter() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ErrorMiddleware { [weak self] path in self?.methods(for: path) ?? [] })
        // Public: probes, the contract, the dashboard (its own login) and the provider's webhook (its signature).
        add(router, .get, "/healthz", health)
        add(router, .get, "/readyz", ready)
        add(router, .get, "/metrics", prometheusMetrics)
        add(router, .get, "/openapi.json", openAPI)
        add(router, .get, "/", dashboard)
        add(router, .post, "/login", login)
        add(router, .post, "/logout", logout)
        add(router, .post, "/v1/webhooks/wavespeed", waveSpeedWebhook)
        let api = router.group("v1").add(middleware: BearerAuthMiddleware(store: store))
        add(api, "/v1", .post, "/clips", createClip)
        add(api, "/v1", .get, "/clips/{id}", getClip)
        add(api, "/v1", .get, "/clips/{id}/frames/{frame}", getFrame)
        add(api, "/v1", .post, "/probe", probeClip)
        add(api, "/v1", .post, "/tasks", createTask)
        add(api, "/v1", .get, "/tasks", listTasks)
        add(api, "/v1", .get, "/tasks/{id}", getTask)
        add(api, "/v1", .post, "/chains", createChain)
        add(api, "/v1", .get, "/chains", listChains)
        add(api, "/v1", .get, "/chains/{id}", getChain)
        add(api, "/v1", .get, "/chains/{id}/video.mp4", getChainVideo)
        add(api, "/v1", .get, "/chains/{id}/seams.png", getChainSeams)
        add(api, "/v1", .get, "/jobs", listJobs)
        add(api, "/v1", .get, "/budgets", listBudgets)
        add(api, "/v1", .get, "/audit", audit)
        add(api, "/v1", .post, "/bills", reconcileBill)
        return router
    }

    private func add(_ router: Router<ServerContext>, _ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        names.withLock { $0.append("\(method) \(path)") }
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }

    private func add(_ group: RouterGroup<ServerContext>, _ prefix: String, _ method: HTTPRequest.Method, _ path: String,
                     _ handler: @escaping Handler) {
        names.withLock { $0.append("\(method) \(prefix)\(path)") }
        group.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }
}
