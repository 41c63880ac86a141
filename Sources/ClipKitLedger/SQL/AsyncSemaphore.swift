import Synchronization

/// A counting semaphore for tasks: `wait()` suspends (never blocks a thread) until one of `count`
/// places is free; waiters are served first come, first served.
final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(available: count)) }

    func wait() async {
        if state.withLock({ s in
            guard s.available > 0 else { return false }
            s.available -= 1
            return true
        }) { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { s in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func signal() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.waiters.isEmpty else {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Runs `body` holding one place.
    func withPlace<T>(_ body: () async throws -> T) async rethrows -> T {
        await wait()
        defer { signal() }
        return try await body()
    }
}
