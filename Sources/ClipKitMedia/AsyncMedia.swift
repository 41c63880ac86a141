import ClipKitCore
import ClipKitRemote
import Foundation

// The public media API. Each call runs its blocking FFmpeg work on `MediaExecutor.shared`, never on
// Swift's cooperative pool, and takes and returns `Sendable` values, so it can be awaited from any actor,
// server handler or job worker. The synchronous versions beside them are for ClipKit's own synchronous
// code (a concat probes and extracts frames inside its own media job).

extension MediaProbe {
    /// Probes one local file or URL for what it really holds, from its header, without decoding (unless
    /// `deep`). Never throws: a file that cannot be probed comes back with `MediaInfo.error` set (and
    /// whatever could still be read).
    ///
    /// A local, ordinary MP4 is answered from its index in pure Swift (`MP4Probe`), which gives the same
    /// `MediaInfo` as FFmpeg without its cost; anything else, and every deep probe, goes to FFmpeg.
    ///
    /// An http(s) URL is read where it lies with a few Range requests (the head, the index, the first
    /// picture's start); the answer is what a local probe of the same file gives, with `path` the URL.
    /// When the server ignores Range, or the clip is not an MP4 the index reader models, it is downloaded
    /// to a temporary file and probed locally. A deep probe reads it all through FFmpeg.
    /// - Parameter deep: also decode every frame, to catch truncated or corrupt data behind a good header.
    public static func probe(_ path: String, deep: Bool = false) async -> MediaInfo {
        if !deep, RemoteClip.isRemote(path) { return await probeRemote(path) }
        return await MediaExecutor.shared.run { probe(path, deep: deep) }
    }

    /// Probes a remote clip from its ranges, or its downloaded copy as a local file would be.
    package static func probeRemote(_ url: String, reader: RemoteProbe = .shared) async -> MediaInfo {
        switch await reader.probe(url) {
        case .probed(let info):
            return info
        case .downloaded(let copy):
            var info = await MediaExecutor.shared.run { probe(copy.path) }
            // The copy's name is an accident of this run: the answer and its messages name the URL.
            info.path = url
            if let message = info.error?.message {
                info.error?.message = message.replacingOccurrences(of: copy.path, with: RemoteClip.displayName(url))
            }
            return info
        }
    }

    /// Probes many files, as many at once as the media executor has threads; results in input order.
    /// - Parameter progress: called with (done, total) after each file, in order, ending at (total, total).
    /// - Throws: `CancellationError` if the task is cancelled (files already started finish first).
    public static func probeAll(_ paths: [String], deep: Bool = false,
                                progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> [MediaInfo] {
        var results = [MediaInfo?](repeating: nil, count: paths.count)
        try await withThrowingTaskGroup(of: (Int, MediaInfo).self) { group in
            var next = 0, done = 0
            // Bounded in flight: a cancelled audit of thousands of clips has no queue to drain.
            func start() {
                let index = next
                next += 1
                let path = paths[index]
                if !deep, RemoteClip.isRemote(path) {
                    group.addTask { (index, await probeRemote(path)) }
                } else {
                    group.addTask(executorPreference: MediaExecutor.shared) { (index, probeHere(path, deep: deep)) }
                }
            }
            // Remote probes wait on the network, not the CPU: more of them in flight (still bounded).
            let inFlight = paths.contains(where: RemoteClip.isRemote) && !deep ? RemoteProbe.concurrency : MediaExecutor.shared.threadCount
            while next < min(paths.count, inFlight) { start() }
            while let (index, info) = try await group.next() {
                results[index] = info
                done += 1
                progress?(done, paths.count)
                try Task.checkCancellation()
                if next < paths.count { start() }
            }
        }
        return results.map { $0! }
    }

    /// Probes a sound file for its exact length, counted by decoding every sample (headers guess: a 3.40 s
    /// LAME MP3 claims 3.448 s): what an s2v clip and its bill follow. Never throws: problems are in
    /// `error`, `noAudio` when the file has no audio stream.
    public static func probeAudio(_ path: String) async -> MediaInfo {
        await MediaExecutor.shared.run { probeAudio(path) }
    }

    /// The blocking probe, for a child task that already runs on a media thread (in an async context the
    /// name `probe` means the async one).
    private static func probeHere(_ path: String, deep: Bool) -> MediaInfo { probe(path, deep: deep) }
}

extension FrameExtractor {
    /// Decodes the displayed frame at `position` as upright RGB, decoding as little as possible
    /// (`.last` is the picture a full decode shows last).
    /// - Parameters:
    ///   - autorotate: apply the display rotation as players and ffmpeg do.
    ///   - matrix: the YUV → RGB matrix; `.auto` takes the stream's tag, or for an untagged stream the
    ///     matrix `VideoColor(evidence:)` decides (what `probe` reports as `video.color`).
    /// - Throws: `MediaProblem` for unreadable inputs, `FrameRangeError` for a position past the end,
    ///   `FFmpegError` naming the failing call and file, `CancellationError`.
    public static func extract(_ position: FramePosition, from path: String, autorotate: Bool = true,
                               matrix: MatrixChoice = .auto) async throws -> RGBImage {
        try await extractFrame(position, from: path, autorotate: autorotate, matrix: matrix).image
    }

    /// `extract`, also saying which colour conversion it used.
    public static func extractFrame(_ position: FramePosition, from path: String, autorotate: Bool = true,
                                    matrix: MatrixChoice = .auto) async throws -> ExtractedFrame {
        try await MediaExecutor.shared.run { try extractFrame(position, from: path, autorotate: autorotate, matrix: matrix) }
    }
}

extension MatrixMatch {
    /// Reads the first frame of `clip` with BT.601 and with BT.709 and compares each with `sent`,
    /// cropped and scaled to the clip's size the way generations fit their input.
    /// - Throws: what `FrameExtractor.extract` throws, `CancellationError`.
    public static func measure(clip: String, sent: RGBImage) async throws -> MatrixMatch {
        try await MediaExecutor.shared.run { try measure(clip: clip, sent: sent) }
    }
}

extension DecodedAudio {
    /// Decodes the best audio stream of `path` from its first sample, resampled to `sampleRate` and
    /// `channels` (what `VideoWriter`'s AAC track takes by default).
    /// - Throws: `MediaProblem` (`noAudio` when there is none, or why the file cannot be read),
    ///   `FFmpegError` naming the call that failed, `CancellationError`.
    public static func decode(_ path: String, sampleRate: Int = 48_000, channels: Int = 2) async throws -> DecodedAudio {
        try await MediaExecutor.shared.run { try DecodedAudio(contentsOf: path, sampleRate: sampleRate, channels: channels) }
    }
}

extension Concatenator {
    /// Joins `inputs` into `output`, written under a temporary name and renamed when complete.
    ///
    /// Cancelling the calling task stops the join before the next frame is written, removes the
    /// temporary file and throws `CancellationError`: no partial output is ever left.
    /// - Parameter progress: called on the media thread after each frame encoded (re-encode) or clip
    ///   copied, in order, ending at `framesDone == framesTotal`; keep it short (it runs between frames).
    /// - Returns: what was done, seam by seam, and the pictures at each seam (for `ContactSheet`).
    /// - Throws: `ConcatError` naming the input that cannot be read or why the clips cannot be copied
    ///   with `.never`; `OutputFileError` if the output exists and `overwrite` is false, or cannot be
    ///   written; `CancellationError`.
    public static func concat(_ inputs: [String], to output: String, options: ConcatOptions = ConcatOptions(),
                              overwrite: Bool = false,
                              progress: (@Sendable (ConcatProgress) -> Void)? = nil) async throws -> ConcatResult {
        try await MediaExecutor.shared.runLong {
            try concat(inputs, to: output, options: options, overwrite: overwrite, progress: progress)
        }
    }
}

extension VideoWriter {
    /// Writes a new MP4 (H.264, optionally AAC) whose pictures and sound `fill` appends, on the media
    /// executor; the file appears at `path` only when `fill` returns and the encoders are flushed.
    ///
    /// Cancelling the calling task stops at the next `append`, removes the temporary file and throws
    /// `CancellationError`; so does an error thrown by `fill`.
    /// - Parameters:
    ///   - executor: where the work runs (`MediaExecutor.shared` unless the caller keeps a pool of its own).
    ///   - progress: called after each picture appended with the count so far, in order.
    /// - Returns: the number of pictures written.
    /// - Throws: `OutputFileError.exists` unless `overwrite`, `OutputFileError` when the file cannot be
    ///   written; `FFmpegError` from the encoders; what `fill` throws; `CancellationError`.
    @discardableResult
    public static func write(to path: String, settings: VideoSettings, overwrite: Bool = false,
                             executor: MediaExecutor = .shared, progress: (@Sendable (Int) -> Void)? = nil,
                             _ fill: @Sendable (VideoWriter) throws -> Void) async throws -> Int {
        try await executor.runLong {
            let writer = try VideoWriter(path: path, settings: settings, overwrite: overwrite)
            writer.onFrame = progress
            try fill(writer)
            try writer.finish()
            return writer.framesWritten
        }
    }
}

extension RGBImage {
    /// Reads a PNG, JPEG or other still image (or a video's first frame) into RGB.
    /// - Throws: `MediaProblem` or `FFmpegError` naming the file.
    public static func load(_ path: String) async throws -> RGBImage {
        try await MediaExecutor.shared.run { try load(path) }
    }

    /// The picture as PNG (lossless) or JPEG (quality ~95, full-range BT.601 as JFIF expects).
    /// - Throws: `FFmpegError` if the encoder fails.
    public func encoded(as format: ImageFormat) async throws -> Data {
        try await MediaExecutor.shared.run { try encoded(as: format) }
    }

    /// Writes the picture to `path` as PNG or JPEG by extension, through a temporary file.
    /// - Throws: `OutputFileError.exists` unless `overwrite`; `ImageError` for an unknown extension;
    ///   `FFmpegError` if the encoder fails.
    public func write(to path: String, overwrite: Bool = false) async throws {
        try await MediaExecutor.shared.run { try write(to: path, overwrite: overwrite) }
    }

    /// The picture scaled to a new size (bicubic), e.g. to fit an input image to a clip's size.
    /// - Throws: `FFmpegError` (sws_getContext) for a size swscale cannot make, e.g. 0×0.
    public func resized(width: Int, height: Int) async throws(FFmpegError) -> RGBImage {
        try await MediaExecutor.shared.run { () throws(FFmpegError) -> RGBImage in try resized(width: width, height: height) }
    }
}

extension ContactSheet {
    /// One row per seam of a finished concat: the last frame before beside the first frame after,
    /// labelled; thumbnails are `thumbnailWidth` wide.
    /// - Throws: `FFmpegError` if a thumbnail cannot be scaled.
    public static func render(_ result: ConcatResult, thumbnailWidth: Int = 320) async throws -> RGBImage {
        try await MediaExecutor.shared.run { try render(result, thumbnailWidth: thumbnailWidth) }
    }
}
