import ClipKitCore
import ClipKitMP4
import ClipKitRemote
import Foundation

/// Probes http(s) clips from their Range-read index, as the engine's `MediaProbe.probe` does with the
/// same `RemoteProbe`, blocking this (main) thread; nil as soon as one needs the engine: a problem to
/// report (the engine prints it and sets the exit status) or a downloaded copy FFmpeg must read.
func remoteFastProbe(_ urls: [String]) -> [MediaInfo]? {
    let results = LockedResults(count: urls.count)
    let done = DispatchSemaphore(value: 0)
    // Detached: a task started from top-level code would run on the main actor this thread is blocking.
    Task.detached {
        await withTaskGroup(of: (Int, MediaInfo?).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                group.addTask { (index, await answer(urls[index])) }
            }
            while next < min(urls.count, RemoteProbe.concurrency) { start() }
            while let (index, info) = await group.next() {
                guard let info else {
                    group.cancelAll()
                    results.needsEngine = true
                    break
                }
                results.set(index, info)
                if next < urls.count { start() }
            }
        }
        done.signal()
    }
    done.wait()
    return results.all
}

/// One URL's answer, or nil when the engine must give it.
private func answer(_ url: String) async -> MediaInfo? {
    switch await RemoteProbe.shared.probe(url) {
    case .probed(let info):
        return info.error == nil ? info : nil
    case .downloaded(let copy):
        // The same rule as the engine: the copy probed as a local file, named by its URL.
        guard var info = MP4Probe.probe(copy.path) else { return nil }
        info.path = url
        return info
    }
}

/// The answers as they arrive from the task group.
private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var infos: [MediaInfo?]
    private var engine = false

    init(count: Int) { infos = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ info: MediaInfo) { lock.withLock { infos[index] = info } }

    var needsEngine: Bool {
        get { lock.withLock { engine } }
        set { lock.withLock { engine = newValue } }
    }

    /// Every answer, or nil when one needs the engine.
    var all: [MediaInfo]? { lock.withLock { engine ? nil : infos.map { $0! } } }
}
