import Foundation

/// The threads ClipKit's FFmpeg work runs on, apart from Swift's cooperative pool.
///
/// Decoding, encoding and probing block the thread they run on. On the cooperative pool (as many
/// threads as cores: two on a 2-core machine) that would stall every actor and every server handler
/// until the media work is done. Every `async` media call in ClipKit (`MediaProbe.probe`,
/// `FrameExtractor.extract`, `Concatenator.concat`, `VideoWriter.write`, image encoding) runs its
/// blocking part here instead, through `run(_:)`, one job per thread at a time, in the order asked.
///
/// It is a `TaskExecutor`: the work still runs inside the calling task, so `Task.isCancelled` and
/// task-local values are the caller's, and the media loops stop between frames when the task is
/// cancelled.
public final class MediaExecutor: TaskExecutor, @unchecked Sendable {
    /// The one executor all of ClipKit's media work shares: one thread per core (at least two).
    public static let shared = MediaExecutor(threads: max(2, ProcessInfo.processInfo.activeProcessorCount))

    /// How many jobs run at once.
    public let threadCount: Int

    private let condition = NSCondition()
    /// Waiting jobs, oldest first (few at a time: callers keep about `threadCount` in flight).
    private var jobs: [UnownedJob] = []
    private static let marker = "clipkit.media"

    private init(threads: Int) {
        threadCount = threads
        for index in 0..<threads {
            // Threads live as long as the process: the executor is shared and never torn down.
            let thread = Thread { [unowned self] in
                Thread.current.threadDictionary[Self.marker] = true
                self.serve()
            }
            thread.name = "\(Self.marker).\(index)"
            thread.start()
        }
    }

    /// Runs blocking media work on the executor's threads, inside the calling task: cancellation,
    /// priority and task-locals are the caller's. Call it from any isolation, an actor's included.
    /// - Throws: what `body` throws.
    public func run<T: Sendable, Failure: Error>(_ body: @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
        // The preference moves every nonisolated async step of this task onto these threads; `onThread`
        // is such a step even when the caller is an actor (an actor-isolated body would stay on the actor).
        try await withTaskExecutorPreference(self) { () async throws(Failure) -> T in try await Self.onThread(body) }
    }

    @concurrent private static func onThread<T: Sendable, Failure: Error>(
        _ body: @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        try body()
    }

    /// True on one of the media threads (for tests and assertions).
    package static var isCurrentThread: Bool { Thread.current.threadDictionary[marker] != nil }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
