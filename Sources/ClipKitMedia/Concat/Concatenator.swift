import CFFmpeg
import ClipKitCore
import Foundation

/// Joins clips into one MP4: by copying packets when the clips are compatible and nothing asks for new
/// pictures, else by decoding, normalising (size, rate, rotation), dropping repeated seam frames,
/// anchoring colour to the first clip, cross-fading, and encoding once.
public enum Concatenator {
    /// The audio every output with sound gets: 48 kHz stereo AAC.
    static let audioRate = 48_000, audioChannels = 2

    /// Joins `inputs` into `output` (written under a temporary name, renamed when complete).
    /// - Parameter progress: called as frames are encoded (re-encode) or clips copied.
    /// - Returns: what was done, seam by seam, and the pictures at each seam (for a contact sheet).
    /// - Throws: `ConcatError` naming the input that cannot be read or why the clips cannot be copied
    ///   with `.never`; `OutputFileError` if the output exists and `overwrite` is false, or cannot be written.
    public static func concat(_ inputs: [String], to output: String, options: ConcatOptions = ConcatOptions(),
                              overwrite: Bool = false, progress: (@Sendable (ConcatProgress) -> Void)? = nil) throws -> ConcatResult {
        guard !inputs.isEmpty else { throw ConcatError(.noInputs, "no input clips") }
        guard options.crossfadeFrames >= 0 else { throw ConcatError(.invalidOptions, "crossfade must be 0 frames or more") }
        // Check the destination and every input before any work, so one bad clip leaves nothing behind.
        try OutputFile(output, overwrite: overwrite).checkWritable()
        let infos = inputs.map { MediaProbe.probe($0) }
        for info in infos {
            if let error = info.error { throw ConcatError(.inputUnreadable, "cannot read \(info.path): \(error.message) [\(error.code.rawValue)]", path: info.path) }
        }
        let plan = try Plan(inputs: inputs, infos: infos, options: options)
        if plan.reencodeReasons.isEmpty {
            return try StreamCopy(plan: plan, output: output, overwrite: overwrite, progress: progress).run()
        }
        if options.reencode == .never {
            throw ConcatError(.copyImpossible, "the clips cannot be joined by copying packets: " + plan.reencodeReasons.joined(separator: "; "))
        }
        return try Reencode(plan: plan, output: output, overwrite: overwrite, progress: progress).run()
    }
}

/// A finished concat: the report and, for each seam, the last picture before and the first after.
public struct ConcatResult: Sendable {
    public var report: ConcatReport
    public var seamPictures: [(before: RGBImage, after: RGBImage)]
}

/// What the inputs are and how they must be joined.
struct Plan {
    let inputs: [String]
    let infos: [MediaInfo]
    let options: ConcatOptions
    let width: Int
    let height: Int
    let frameRate: Rational
    let hasAudio: Bool
    /// Empty when packets can be copied.
    let reencodeReasons: [String]

    init(inputs: [String], infos: [MediaInfo], options: ConcatOptions) throws {
        self.inputs = inputs
        self.infos = infos
        self.options = options
        let first = infos[0].video!
        let size = options.size ?? FrameSize(width: first.displayWidth, height: first.displayHeight)
        guard size.width > 0, size.height > 0 else { throw ConcatError(.invalidOptions, "output size must be positive") }
        let (width, height) = (size.width / 2 * 2, size.height / 2 * 2)
        self.width = width
        self.height = height
        guard let rate = options.frameRate ?? first.frameRate, rate.isValid else {
            throw ConcatError(.noFrameRate, "\(inputs[0]) has no frame rate to set the output's", path: inputs[0])
        }
        let frameRate = rate
        self.frameRate = rate
        hasAudio = infos.contains { $0.audio != nil }

        var reasons: [String] = []
        if options.reencode == .always { reasons.append("re-encoding was requested") }
        if options.seam == .dropAlways { reasons.append("seam frames are dropped") }
        if options.colorMatch == .first { reasons.append("colour is matched to the first clip") }
        if options.crossfadeFrames > 0 { reasons.append("seams are cross-faded") }
        if options.size != nil, infos.contains(where: { $0.video!.displayWidth != width || $0.video!.displayHeight != height }) {
            reasons.append("clips are resized to \(width)x\(height)")
        }
        for (info, path) in zip(infos, inputs) {
            let video = info.video!
            if video.codec != first.codec || video.width != first.width || video.height != first.height
                || video.pixelFormat != first.pixelFormat || video.profile != first.profile || video.rotation != first.rotation {
                reasons.append("\(path) differs from \(inputs[0]) (\(video.codec) \(video.width)x\(video.height) \(video.pixelFormat ?? "?") vs \(first.codec) \(first.width)x\(first.height) \(first.pixelFormat ?? "?"))")
            } else if let rate = video.frameRate, rate.reduced != frameRate.reduced {
                reasons.append("\(path) runs at \(rate) fps, the output at \(frameRate)")
            }
        }
        if reasons.isEmpty { reasons += try Plan.copyBlockers(inputs) }
        if reasons.isEmpty, options.seam == .drop {
            // Copying keeps every frame: only possible if no seam repeats a frame.
            for (from, to) in zip(inputs, inputs.dropFirst()) {
                let similarity = try SeamImages.similarity(try FrameExtractor.extract(.last, from: from), try FrameExtractor.extract(.first, from: to))
                if similarity >= options.seamThreshold {
                    reasons.append("\(to) starts with a repeat of \(from)'s last frame (similarity \(String(format: "%.1f", similarity)) dB)")
                }
            }
        }
        reencodeReasons = reasons
    }

    /// Differences that only the streams show: parameter sets that are not byte-identical (one MP4
    /// track has one set), or samples an edit list hides (a copy would show them).
    private static func copyBlockers(_ inputs: [String]) throws -> [String] {
        var reasons: [String] = []
        var firstExtradata: [UInt8]?
        for path in inputs {
            let (input, _) = try MediaProbe.openInput(path)
            guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { continue }
            let stream = input.stream(index)
            let par = stream.pointee.codecpar.pointee
            let extradata = par.extradata.map { Array(UnsafeBufferPointer(start: $0, count: Int(par.extradata_size))) } ?? []
            if let firstExtradata, firstExtradata != extradata {
                reasons.append("\(path) was encoded with different parameter sets from \(inputs[0])")
            }
            firstExtradata = firstExtradata ?? extradata
            for i in 0..<avformat_index_get_entries_count(stream) {
                if let entry = avformat_index_get_entry(stream, i), Int32(entry.pointee.flags) & AVINDEX_DISCARD_FRAME != 0 {
                    reasons.append("\(path) has samples an edit list hides")
                    break
                }
            }
        }
        return reasons
    }

    /// The clip's audio resampled to the output format and fitted to `seconds` of video starting
    /// `skip` seconds in: trimmed where it outlasts the picture, padded with silence where it is shorter
    /// or missing, so every clip's sound starts with its picture.
    func audio(for index: Int, skip: Double, seconds: Double) throws -> [Float] {
        let channels = Concatenator.audioChannels, rate = Double(Concatenator.audioRate)
        let wanted = Int((seconds * rate).rounded()) * channels
        guard let samples = try AudioTrackReader.read(inputs[index], rate: Concatenator.audioRate, channels: channels) else {
            return [Float](repeating: 0, count: wanted)
        }
        let start = min(samples.count, Int((skip * rate).rounded()) * channels)
        var fitted = Array(samples[start..<min(samples.count, start + wanted)])
        if fitted.count < wanted { fitted += [Float](repeating: 0, count: wanted - fitted.count) }
        return fitted
    }
}

/// Joins compatible clips by copying their video packets onto one continuous timeline.
struct StreamCopy {
    let plan: Plan
    let output: String
    let overwrite: Bool
    let progress: (@Sendable (ConcatProgress) -> Void)?

    func run() throws -> ConcatResult {
        let (first, _) = try MediaProbe.openInput(plan.inputs[0])
        let firstIndex = first.bestStream(AVMEDIA_TYPE_VIDEO)!
        let timeBase = first.stream(firstIndex).pointee.time_base
        let settings = VideoSettings(width: plan.width, height: plan.height, frameRate: plan.frameRate,
                                     audio: plan.hasAudio ? AudioSettings() : nil)
        let writer = try VideoWriter(path: output, settings: settings, copying: first.stream(firstIndex), overwrite: overwrite)
        let packet = Packet()
        var offset: Int64 = 0, lastDTS = Int64.min
        var clips: [ConcatReport.Clip] = []
        for (i, path) in plan.inputs.enumerated() {
            let (input, _) = try MediaProbe.openInput(path)
            let index = input.bestStream(AVMEDIA_TYPE_VIDEO)!
            input.selectOnly(index)
            let stream = input.stream(index)
            let clipBase = stream.pointee.time_base
            let start = stream.pointee.start_time != cffmpeg_nopts_value() ? stream.pointee.start_time : 0
            var frames = 0
            while try input.read(into: packet) {
                guard packet.streamIndex == index else { continue }
                let p = packet.pointer
                // Time bases may differ between clips: rescale onto the first clip's, then shift.
                p.pointee.pts = av_rescale_q(p.pointee.pts - start, clipBase, timeBase) + offset
                p.pointee.dts = av_rescale_q(p.pointee.dts - start, clipBase, timeBase) + offset
                p.pointee.duration = av_rescale_q(p.pointee.duration, clipBase, timeBase)
                if p.pointee.dts <= lastDTS { p.pointee.dts = min(lastDTS + 1, p.pointee.pts) }
                lastDTS = p.pointee.dts
                try writer.appendCopied(packet, timeBase: timeBase)
                frames += 1
            }
            let seconds = plan.infos[i].video!.duration ?? Double(frames) / plan.frameRate.doubleValue
            offset += Int64((seconds / av_q2d(timeBase)).rounded())
            if plan.hasAudio { try writer.appendAudio(try plan.audio(for: i, skip: 0, seconds: seconds)) }
            clips.append(.init(path: path, framesIn: frames, framesOut: frames, hasAudio: plan.infos[i].audio != nil))
            progress?(ConcatProgress(clip: i + 1, clips: plan.inputs.count, framesDone: clips.reduce(0) { $0 + $1.framesOut },
                                     framesTotal: plan.infos.reduce(0) { $0 + ($1.video?.frameCount ?? 0) }))
        }
        try writer.finish()
        let seams = plan.options.measuresQuality ? try measureCopiedSeams() : []
        let frames = clips.reduce(0) { $0 + $1.framesOut }
        let report = ConcatReport(output: output, mode: .copy, reencodeReasons: [], width: plan.width, height: plan.height,
                                  frameRate: plan.frameRate, frames: frames, duration: Double(offset) * av_q2d(timeBase),
                                  hasAudio: plan.hasAudio, seamThreshold: plan.options.seamThreshold, psnrAverage: nil, psnrMinimum: nil,
                                  clips: clips, seams: seams.map(\.seam))
        return ConcatResult(report: report, seamPictures: seams.map(\.pictures))
    }

    /// Seams of copied clips are measured on their exact last and first frames (decoded only for this).
    private func measureCopiedSeams() throws -> [(seam: ConcatReport.Seam, pictures: (before: RGBImage, after: RGBImage))] {
        try zip(plan.inputs, plan.inputs.dropFirst()).map { from, to in
            let last = try FrameExtractor.extract(.last, from: from), first = try FrameExtractor.extract(.first, from: to)
            let deltaE = ColorDifference.meanDeltaE(last, first)
            let seam = ConcatReport.Seam(from: from, to: to, similarity: try SeamImages.similarity(last, first), framesDropped: 0,
                                         deltaEBefore: deltaE, deltaEAfter: deltaE, handling: .copied)
            return (seam, (last, first))
        }
    }
}

/// The seam pictures a report and contact sheet show.
enum SeamImages {
    /// The normalised-luma similarity of two RGB pictures (as `PlaneMath.similarity` on YUV).
    static func similarity(_ a: RGBImage, _ b: RGBImage) throws(FFmpegError) -> Double {
        let fa = try yuv(a), fb = try yuv(b)
        return PlaneMath.similarity(fa, fb)
    }

    static func yuv(_ image: RGBImage) throws(FFmpegError) -> Frame {
        let scaler = try Scaler(from: (image.width, image.height, AV_PIX_FMT_RGB24), sourceMatrix: SWS_CS_ITU709, sourceFullRange: true,
                            to: (image.width, image.height, AV_PIX_FMT_YUV420P), targetMatrix: SWS_CS_ITU709, targetFullRange: false)
        return try scaler.convert(try image.frame())
    }
}
