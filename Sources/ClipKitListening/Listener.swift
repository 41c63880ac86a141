import NIOCore

/// Starts a Hummingbird server (alone or in a `ServiceGroup`) and waits until its listener is bound,
/// so a caller learns the port it asked the system to choose (0) and a failure to bind is an error at
/// start, not a silent task. The sandbox and `clipkit serve` share it.
public final class Listener: Sendable {
    private let ports: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    public init() { (ports, continuation) = AsyncStream<Int>.makeStream() }

    /// Pass as the application's `onServerRunning`.
    @Sendable public func bound(_ channel: any Channel) async { continuation.yield(channel.localAddress?.port ?? 0) }

    /// Runs `body` (the application's or the group's `run`) in a task, until it ends.
    /// - Parameter executor: where the server's handlers run; nil: Swift's cooperative pool.
    /// - Returns: the bound port and the running task.
    /// - Throws: what `describe` makes of the reason the server did not bind.
    public func run(on executor: (any TaskExecutor)? = nil, _ body: @escaping @Sendable () async throws -> Void,
                    orThrow describe: (String) -> any Error) async throws -> (port: Int, task: Task<Void, any Error>) {
        let continuation = continuation
        let task = Task(executorPreference: executor) {
            defer { continuation.finish() }
            try await body()
        }
        var bound: Int?
        for await port in ports {
            bound = port
            break
        }
        guard let port = bound, port > 0 else {
            let reason: String
            if case .failure(let error) = await task.result { reason = "\(error)" } else { reason = "it stopped at once" }
            throw describe(reason)
        }
        return (port, task)
    }
}
