import Foundation

/// The threads ClipKit's FFmpeg work runs on, apart from Swift's cooperative pool.
///
/// Decoding, encoding and probing block the thread they run on. On the cooperative pool (as many
/// threads as cores: two on a 2-core machine) that would stall every actor and every server handler
/// until the media work is done. Every `async` media call in ClipKit (`MediaProbe.probe`,
/// `FrameExtractor.extract`, `Concatenator.concat`, `VideoWriter.write`, image encoding) runs its
/// blocking part here instead, through `run(_:)`, one job per thread at a time, in the order asked.
///
/// Long work (a join, a video write: seconds to minutes) goes through `runLong(_:)`, which first waits,
/// without holding a thread, for one of `threadCount − 1` slots. So however many joins are queued, one
/// thread is always left for the short work behind them (a probe, a last frame, an image to encode),
/// and a server handler that needs one waits for it, not for every join ahead.
///
/// It is a `TaskExecutor`: the work still runs inside the calling task, so `Task.isCancelled` and
/// task-local values are the caller's, and the media loops stop between frames when the task is
/// cancelled. Code of a pipeline's own that blocks (its own decoder, a synchronous library) can run here
/// too, through `run(_:)`; it must not wait for other media work from inside, which could need the
/// very thread it holds.
public final class MediaExecutor: TaskExecutor, @unchecked Sendable {
    /// The one executor all of ClipKit's media work shares: one thread per core (at least two).
    public static let shared = MediaExecutor(threads: max(2, ProcessInfo.processInfo.activeProcessorCount))

    /// How many jobs run at once.
    public let threadCount: Int

    private let longWork: Slots
    private let condition = NSCondition()
    /// Waiting jobs, oldest first.
    private var jobs: [UnownedJob] = []
    private static let marker = "clipkit.media"

    /// A pool of its own, for blocking work that must not queue behind the shared one's: ClipKit's
    /// offline sandbox renders on one, as the provider it stands for renders on machines of its own. Its
    /// threads live as long as the process: make one per purpose, not per call.
    public init(threads: Int) {
        threadCount = threads
        longWork = Slots(threads - 1)
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

    /// Runs long blocking work (a join, a video write) as `run(_:)` does, once one of the `threadCount − 1`
    /// slots for long work is free; waiting for it holds no thread.
    /// - Throws: what `body` throws; `CancellationError` if the task is cancelled while it waits.
    public func runLong<T: Sendable>(_ body: @Sendable () throws -> T) async throws -> T {
        try await longWork.acquire()
        do {
            let result = try await run(body)
            await longWork.release()
            return result
        } catch {
            await longWork.release()
            throw error
        }
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

/// A counting semaphore for async code: `acquire` waits (holding no thread) until a slot is free, and
/// gives up with `CancellationError` if its task is cancelled meanwhile.
actor Slots {
    private var free: Int
    private var waiting: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID = 0

    init(_ count: Int) { free = max(1, count) }

    func acquire() async throws {
        try Task.checkCancellation()
        if free > 0 {
            free -= 1
            return
        }
        let id = nextID
        nextID += 1
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { waiting.append((id, $0)) }
        } onCancel: {
            Task { await self.withdraw(id) }
        }
        if !granted { throw CancellationError() }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().continuation.resume(returning: true) }
    }

    private func withdraw(_ id: Int) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(returning: false)
    }
}
