import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

/// Events recorded from a callback that runs on a media thread.
final class EventLog<Event: Sendable>: @unchecked Sendable {
    private var events: [Event] = []
    private let lock = NSLock()

    func append(_ event: Event) { lock.withLock { events.append(event) } }
    var all: [Event] { lock.withLock { events } }
}

/// An actor with work of its own, unrelated to media: it must keep running while media work blocks.
actor Ticker {
    private(set) var ticks = 0
    func tick() { ticks += 1 }
}

/// Runs `body` as synchronous code, where the blocking overloads are the ones called.
func blocking<T>(_ body: () throws -> T) rethrows -> T { try body() }

/// Whatever is left in a directory by an unfinished output (`.NAME.partial-PID.ext`).
func partialFiles(in directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".partial-") }
}

/// Blocks the media thread that calls it until the test lets it go: a user cancelling from another task
/// at a known frame. The wait has a deadline so that a broken executor fails the test instead of hanging it.
final class Pause: @unchecked Sendable {
    private let reached: AsyncStream<Void>.Continuation
    let reachedStream: AsyncStream<Void>
    private let release = DispatchSemaphore(value: 0)

    init() { (reachedStream, reached) = AsyncStream.makeStream(of: Void.self) }

    /// On the media thread.
    func hold() {
        reached.yield()
        _ = release.wait(timeout: .now() + 120)
    }

    /// In the test: wait until `hold` is reached.
    func waitUntilHeld() async {
        for await _ in reachedStream { return }
    }

    func resume() { release.signal() }
}

@Suite("async media calls")
struct AsyncMediaTests {
    @Test("media work runs on the media threads, also when awaited from an actor")
    func runsOnMediaThreads() async throws {
        actor Caller {
            func onMediaThread() async -> Bool { await MediaExecutor.shared.run { MediaExecutor.isCurrentThread } }
        }
        #expect(await Caller().onMediaThread())
        #expect(await MediaExecutor.shared.run { MediaExecutor.isCurrentThread })
        #expect(!MediaExecutor.isCurrentThread)
        #expect(MediaExecutor.shared.threadCount >= 2)
    }

    @Test("probes queued behind blocked media threads do not stop an unrelated actor")
    func probesLeaveThePoolFree() async throws {
        let width = MediaExecutor.shared.threadCount
        let pauses = (0..<width).map { _ in Pause() }
        // Occupy every media thread with blocking work, as long decodes would.
        let holders = pauses.map { pause in Task { await MediaExecutor.shared.run { pause.hold() } } }
        for pause in pauses { await pause.waitUntilHeld() }

        let sample = Samples.path(Samples.t2v480p)
        let progress = EventLog<Int>()
        let probes = Task { try await MediaProbe.probeAll(Array(repeating: sample, count: 64)) { done, _ in progress.append(done) } }
        // The cooperative pool is free: an actor's work runs to the end while no probe can start.
        let ticker = Ticker()
        for _ in 0..<1_000 {
            await ticker.tick()
            await Task.yield()
        }
        #expect(await ticker.ticks == 1_000)
        #expect(progress.all.isEmpty, "no probe ran while every media thread was held")

        for pause in pauses { pause.resume() }
        for holder in holders { await holder.value }
        let infos = try await probes.value
        #expect(infos.count == 64)
        #expect(infos.allSatisfy { $0.video?.frameCount == 150 && $0.error == nil })
        #expect(progress.all == Array(1...64), "progress counts every file once, in order")
    }

    @Test("many concurrent probes from an actor give the same answers as one")
    func concurrentProbes() async throws {
        actor Prober {
            func probeAll(_ paths: [String]) async -> [MediaInfo] {
                await withTaskGroup(of: (Int, MediaInfo).self) { group in
                    for (i, path) in paths.enumerated() { group.addTask { (i, await MediaProbe.probe(path)) } }
                    var results = [MediaInfo?](repeating: nil, count: paths.count)
                    for await (i, info) in group { results[i] = info }
                    return results.map { $0! }
                }
            }
        }
        let paths = Array(repeating: Samples.all.map(Samples.path), count: 8).flatMap { $0 }
        let infos = await Prober().probeAll(paths)
        let expected = blocking { Samples.all.map { MediaProbe.probe(Samples.path($0)) } }
        #expect(infos == Array(repeating: expected, count: 8).flatMap { $0 })
    }

    @Test("a cancelled probe of many files throws CancellationError")
    func probeAllCancelled() async throws {
        let sample = Samples.path(Samples.t2v480p)
        let probes = Task { try await MediaProbe.probeAll(Array(repeating: sample, count: 200)) }
        probes.cancel()
        await #expect(throws: CancellationError.self) { try await probes.value }
    }

    @Test("concat progress arrives in order and ends at the frames written")
    func concatProgress() async throws {
        let clips = try ChainFixture.make("progress-chain", clips: 3, drift: false)
        let output = Fixtures.shared.scratch("progress.mp4")
        let events = EventLog<ConcatProgress>()
        let result = try await Concatenator.concat(clips, to: output, options: ConcatOptions(seam: .drop)) { events.append($0) }
        let done = events.all.map(\.framesDone)
        #expect(result.report.frames == 3 * ChainFixture.framesPerClip - 2)
        #expect(done == Array(1...result.report.frames) + [result.report.frames], "one event a frame, then the final one")
        #expect(events.all.last == ConcatProgress(clip: 3, clips: 3, framesDone: result.report.frames, framesTotal: result.report.frames))
        #expect(events.all.map(\.clip) == events.all.map(\.clip).sorted())
        #expect(await MediaProbe.probe(output).video?.frameCount == result.report.frames)

        // Stream copy reports clip by clip, ending at the total too.
        let copied = EventLog<ConcatProgress>()
        let sample = Samples.path(Samples.t2v480p)
        _ = try await Concatenator.concat([sample, sample], to: Fixtures.shared.scratch("copy-progress.mp4")) { copied.append($0) }
        #expect(copied.all.map(\.framesDone) == [150, 300, 300])
        #expect(copied.all.last?.framesTotal == 300)
    }

    @Test("a concat cancelled mid-way stops before the next frame and leaves no file")
    func concatCancelled() async throws {
        let clips = try ChainFixture.make("cancel-chain", clips: 4, drift: true)
        let directory = Fixtures.shared.scratch("cancel-dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let output = directory + "/joined.mp4"
        let events = EventLog<ConcatProgress>()
        let pause = Pause()
        let join = Task {
            try await Concatenator.concat(clips, to: output, options: ConcatOptions(seam: .drop, colorMatch: .first)) { progress in
                events.append(progress)
                if progress.framesDone == 40 { pause.hold() }
            }
        }
        await pause.waitUntilHeld()
        join.cancel()
        pause.resume()
        await #expect(throws: CancellationError.self) { try await join.value }
        #expect(events.all.map(\.framesDone) == Array(1...40), "no frame written after the cancel")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(partialFiles(in: directory).isEmpty)
    }

    @Test("a write cancelled mid-way leaves no file; a finished one has every frame")
    func writeCancelled() async throws {
        let directory = Fixtures.shared.scratch("write-dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let settings = VideoSettings(width: 160, height: 96, frameRate: Rational(25, 1))
        let grey = RGBImage(width: 160, height: 96, pixels: [UInt8](repeating: 128, count: 160 * 96 * 3))

        let written = EventLog<Int>()
        let count = try await VideoWriter.write(to: directory + "/whole.mp4", settings: settings, progress: { written.append($0) }) { writer in
            for _ in 0..<30 { try writer.append(grey) }
        }
        #expect(count == 30)
        #expect(written.all == Array(1...30))
        #expect(await MediaProbe.probe(directory + "/whole.mp4").video?.frameCount == 30)

        let pause = Pause()
        let appended = EventLog<Int>()
        let write = Task {
            try await VideoWriter.write(to: directory + "/cut.mp4", settings: settings, progress: { n in
                appended.append(n)
                if n == 10 { pause.hold() }
            }) { writer in
                for _ in 0..<1_000 { try writer.append(grey) }
            }
        }
        await pause.waitUntilHeld()
        write.cancel()
        pause.resume()
        await #expect(throws: CancellationError.self) { try await write.value }
        #expect(appended.all == Array(1...10))
        #expect(!FileManager.default.fileExists(atPath: directory + "/cut.mp4"))
        #expect(partialFiles(in: directory).isEmpty)
    }

    @Test("the async frame and image calls give what the blocking ones give")
    func framesAndImages() async throws {
        let clip = Samples.path(Samples.hd1080p)
        let last = try await FrameExtractor.extract(.last, from: clip)
        #expect(last == (try blocking { try FrameExtractor.extract(.last, from: clip) }))
        let png = Fixtures.shared.scratch("last.png")
        try await last.write(to: png)
        #expect(try await RGBImage.load(png) == last)
        #expect(try await last.encoded(as: .png) == (try blocking { try last.encoded(as: .png) }))
        let small = try await last.resized(width: 320, height: 180)
        #expect(small.width == 320 && small.height == 180)
        await #expect(throws: MediaProblem.self) { try await FrameExtractor.extract(.last, from: clip + ".missing") }
    }
}
