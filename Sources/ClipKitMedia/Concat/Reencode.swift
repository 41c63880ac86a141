import CFFmpeg
import ClipKitCore
import Foundation

/// Joins clips by decoding every frame and encoding the result once: normalised to one size and frame
/// rate, with repeated seam frames dropped, colour anchored to the first clip and optional cross-fades.
struct Reencode {
    let plan: Plan
    let output: String
    let overwrite: Bool
    let progress: (@Sendable (ConcatProgress) -> Void)?

    func run() throws -> ConcatResult {
        let options = plan.options
        let settings = VideoSettings(width: plan.width, height: plan.height, frameRate: plan.frameRate, crf: options.crf,
                                     preset: options.preset, audio: plan.hasAudio ? AudioSettings() : nil)
        let writer = try VideoWriter(path: output, settings: settings, overwrite: overwrite)
        let letterbox = Letterbox(width: plan.width, height: plan.height)
        let fps = plan.frameRate.doubleValue
        let fade = options.crossfadeFrames
        let fadeSamples = Int((Double(fade) / fps * Double(Concatenator.audioRate)).rounded()) * Concatenator.audioChannels
        let framesTotal = plan.infos.reduce(0) { $0 + Int((($1.video?.duration ?? 0) * fps).rounded()) }

        var previousLast: Frame?          // the previous clip's last output picture, colour-corrected
        var held: [Frame] = []            // the previous clip's last `fade` pictures, not yet written
        var audioTail: [Float] = []       // the previous clip's last `fade` frames of sound, not yet written
        var clips: [ConcatReport.Clip] = [], seams: [ConcatReport.Seam] = []
        var pictures: [(before: RGBImage, after: RGBImage)] = []
        var written = 0
        // Pictures kept to measure the encode's PSNR against, about 60 spread over the output.
        let sampleEvery = max(1, framesTotal / 60)
        var sampled: [Int: Frame] = [:]

        func write(_ frame: Frame, clip: Int) throws {
            if options.measuresQuality, written % sampleEvery == 0 { sampled[written] = frame.clone() }
            try writer.append(frame: frame)
            written += 1
            progress?(ConcatProgress(clip: clip + 1, clips: plan.inputs.count, framesDone: written, framesTotal: framesTotal))
        }

        for (i, path) in plan.inputs.enumerated() {
            let reader = try ClipReader(path: path)
            let rotation = reader.rotation
            guard let first = try reader.next() else { throw ConcatError(.undecodable, "\(path): no frame could be decoded", path: path) }
            var picture = try letterbox.fit(first.frame, rotation: rotation)
            var correction: ColorTransform?
            var skip = 0.0, dropped = 0

            if let previous = previousLast {
                // The seam: decide on the clip's very first picture, the one an i2v model copies from its input.
                // Colour is compared and fitted on that first picture too, even if it is then dropped: it shows
                // the same scene as the previous last picture, so only colour differs, not motion.
                let similarity = PlaneMath.similarity(previous, picture)
                if options.colorMatch == .first { correction = ColorTransform.fit(from: picture, to: previous) }
                let before = try FrameExtractor.rgb(previous), firstRaw = try FrameExtractor.rgb(picture)
                var firstCorrected = firstRaw
                if let correction {
                    let copy = try Frame.picture(width: picture.width, height: picture.height, format: picture.pixelFormat)
                    av_frame_copy(copy.pointer, picture.pointer)
                    av_frame_copy_props(copy.pointer, picture.pointer)
                    try correction.apply(to: copy)
                    firstCorrected = try FrameExtractor.rgb(copy)
                }
                if options.seam == .dropAlways || (options.seam == .drop && similarity >= options.seamThreshold),
                   let next = try reader.next() {
                    dropped = 1
                    skip = next.time
                    picture = try letterbox.fit(next.frame, rotation: rotation)
                }
                try correction?.apply(to: picture)
                seams.append(.init(from: plan.inputs[i - 1], to: path, similarity: similarity, framesDropped: dropped,
                                   deltaEBefore: ColorDifference.meanDeltaE(before, firstRaw),
                                   deltaEAfter: ColorDifference.meanDeltaE(before, firstCorrected), handling: .reencoded))
                pictures.append((before, try FrameExtractor.rgb(picture)))
            }

            // Map the clip onto the output timeline: output frame k shows the source picture on screen at k/fps.
            let seconds = max(0, (plan.infos[i].video?.duration ?? 0) - skip)
            let count = max(1, Int((seconds * fps).rounded()))
            var lookahead = try reader.next()
            var emitted = 0, fading = i > 0 ? min(fade, held.count) : 0
            var last = picture
            while emitted < count {
                let time = skip + Double(emitted) / fps
                while let candidate = lookahead, candidate.time <= time + 1e-4 {
                    picture = try letterbox.fit(candidate.frame, rotation: rotation)
                    try correction?.apply(to: picture)
                    lookahead = try reader.next()
                }
                last = picture
                if fading > 0, !held.isEmpty {
                    // Cross-fade: the held pictures of the previous clip dissolve into this one's first pictures.
                    let k = min(fade, held.count) - fading
                    try write(try PlaneMath.blend(held[k], picture, weight: Double(k + 1) / Double(fade + 1)), clip: i)
                    fading -= 1
                    if fading == 0 { held.removeAll() }
                } else if fade > 0 {
                    held.append(picture.clone())
                    if held.count > fade { try write(held.removeFirst(), clip: i) }
                } else {
                    try write(picture.clone(), clip: i)
                }
                emitted += 1
            }
            previousLast = last

            if plan.hasAudio {
                var sound = try plan.audio(for: i, skip: skip, seconds: Double(count) / fps)
                if i > 0, fadeSamples > 0, !audioTail.isEmpty {
                    // The sound cross-fades over the same frames as the picture.
                    let overlap = min(audioTail.count, sound.count)
                    for s in 0..<overlap {
                        let w = Float(s) / Float(overlap)
                        sound[s] = audioTail[s] * (1 - w) + sound[s] * w
                    }
                    audioTail.removeAll()
                }
                if fadeSamples > 0, i < plan.inputs.count - 1 {
                    let keep = min(fadeSamples, sound.count)
                    audioTail = Array(sound.suffix(keep))
                    sound.removeLast(keep)
                }
                try writer.appendAudio(sound)
            }
            clips.append(.init(path: path, framesIn: plan.infos[i].video?.frameCount ?? 0, framesOut: count - (i > 0 ? min(fade, count) : 0),
                               hasAudio: plan.infos[i].audio != nil))
        }
        for frame in held { try write(frame, clip: plan.inputs.count - 1) }
        if !audioTail.isEmpty { try writer.appendAudio(audioTail) }
        try writer.finish()

        let psnr = options.measuresQuality ? try Reencode.psnr(of: output, against: sampled) : nil
        let report = ConcatReport(output: output, mode: .reencode, reencodeReasons: plan.reencodeReasons, width: plan.width,
                                  height: plan.height, frameRate: plan.frameRate, frames: written,
                                  duration: Double(written) / fps, hasAudio: plan.hasAudio, seamThreshold: options.seamThreshold,
                                  psnrAverage: psnr?.average, psnrMinimum: psnr?.minimum, clips: clips, seams: seams)
        return ConcatResult(report: report, seamPictures: pictures)
    }

    /// Decodes the finished output once and compares the sampled pictures with what came out (YUV PSNR).
    static func psnr(of output: String, against sampled: [Int: Frame]) throws -> (average: Double, minimum: Double)? {
        guard !sampled.isEmpty else { return nil }
        let reader = try ClipReader(path: output)
        var index = 0, values: [Double] = []
        while let decoded = try reader.next() {
            if let source = sampled[index] { values.append(PlaneMath.psnr(source, decoded.frame)) }
            index += 1
        }
        guard !values.isEmpty else { return nil }
        return (values.reduce(0, +) / Double(values.count), values.min()!)
    }
}
