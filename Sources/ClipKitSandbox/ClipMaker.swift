import ClipKitCore
import ClipKitMedia
import Foundation

/// What to render for one task.
struct ClipSpec: Sendable {
    var width: Int
    var height: Int
    var fps: Int
    var frames: Int
    var audio: Bool
    /// i2v/kf2v: the clip starts from this picture.
    var first: RGBImage?
    /// kf2v: the clip ends on this picture.
    var last: RGBImage?
    /// t2v: the scene is drawn from a hash of the prompt.
    var prompt: String
    var seed: UInt64
    /// How the clip's colour is written.
    var color: ClipColor
    /// s2v: the voice as the clip's sound (48 kHz stereo, interleaved) instead of a tone; it may end up
    /// to half a frame after the last picture, as a voice rarely ends on a frame boundary.
    var soundtrack: [Float]? = nil
    var motion: Motion = .camera

    enum Motion: Sendable {
        /// A generated camera move: zoom and pan across the clip, with a warm colour drift.
        case camera
        /// A talking portrait: the picture breathes in and out by a few per cent, colours kept.
        case gentle
    }
}

/// How the sandbox writes a clip's colour: like a service that tags BT.709, or like a pipeline that
/// writes through ffmpeg/imageio (untagged, converted with BT.601). `bt709-untagged` converts with
/// BT.709 and tags nothing, so the evidence (x264, Lavf) points the wrong way: only measuring the
/// first frame against the sent image finds it out.
public enum ClipColor: String, Sendable, Hashable, Codable, CaseIterable {
    case bt709Tagged = "bt709-tagged"
    case bt601Untagged = "bt601-untagged"
    case bt709Untagged = "bt709-untagged"
}

/// Renders provider-like clips: the first frame is the input image (or a scene drawn from the
/// prompt), then a slow zoom and pan, with the small warm shift and contrast loss real models add
/// per generation; kf2v cross-dissolves into the last frame over the final 40 %.
enum ClipMaker {
    /// Zoom reached at the end of the clip: about a pixel a frame at 480P, so every frame moves, as a
    /// generated camera move does from its first frame on.
    static let zoom = 0.2
    /// Colour drift at the end of the clip: contrast kept, red lift, blue drop (8-bit levels).
    static let contrastEnd = 0.95, warmRed = 5.0, warmBlue = -4.0

    /// The sandbox's own render threads: it stands for a provider's machines, so its renders never queue
    /// behind the media work of the process that uses it (a test's probes and joins, a pipeline's); three
    /// renders at a time, as a service renders several tasks at once.
    static let renders = MediaExecutor(threads: 4)

    /// Writes the clip to `path` on the sandbox's render threads (through a temporary file, so a half-written clip
    /// is never served; a cancelled render stops between frames and leaves nothing).
    /// - Throws: `FFmpegError`/`OutputFileError` from the writer, `CancellationError`.
    static func render(_ spec: ClipSpec, to path: String) async throws {
        let settings = VideoSettings(width: spec.width, height: spec.height, frameRate: Rational(spec.fps, 1), crf: 20,
                                     audio: spec.audio ? AudioSettings() : nil, matrix: spec.color == .bt601Untagged ? .bt601 : .bt709,
                                     tagsColor: spec.color == .bt709Tagged)
        try await VideoWriter.write(to: path, settings: settings, overwrite: true, executor: renders) { writer in
            let canvasWidth = even(Double(spec.width) * (1 + zoom)), canvasHeight = even(Double(spec.height) * (1 + zoom))
            let base: RGBImage = if let first = spec.first {
                try first.covering(width: canvasWidth, height: canvasHeight)
            } else {
                scene(prompt: spec.prompt, seed: spec.seed, width: canvasWidth, height: canvasHeight)
            }
            let last = try spec.last.map { try $0.covering(width: spec.width, height: spec.height) }
            // The first frame is the input itself at the clip's size, not a resampled canvas: what models do.
            let opening = try spec.first.map { try $0.covering(width: spec.width, height: spec.height) }
            var drifted = base
            let (panX, panY) = pan(seed: spec.seed)
            for index in 0..<spec.frames {
                let t = spec.frames > 1 ? Double(index) / Double(spec.frames - 1) : 0
                // The drift moves in steps of 10 frames: invisible, and ten times cheaper than per frame.
                if spec.motion == .camera, index % 10 == 0 { drifted = drift(base, amount: t) }
                // Gentle: up to 3 % of zoom and back every three seconds.
                let position = spec.motion == .camera ? t : 0.075 * (1 - cos(2 * .pi * Double(index) / Double(3 * spec.fps)))
                var frame = index == 0 && opening != nil ? opening!
                    : try window(drifted, t: position, panX: panX, panY: panY, width: spec.width, height: spec.height)
                if let last, t > 0.6 {
                    let w = (t - 0.6) / 0.4
                    frame = blend(frame, last, weight: w * w * (3 - 2 * w))
                }
                try writer.append(frame)
                if spec.audio {
                    try writer.appendAudio(spec.soundtrack.map { slice($0, frame: index, fps: spec.fps) }
                        ?? tone(frame: index, fps: spec.fps, seed: spec.seed))
                }
            }
            if spec.audio, let soundtrack = spec.soundtrack {
                try writer.appendAudio(Array(soundtrack.dropFirst(min(soundtrack.count, spec.frames * samplesPerFrame(fps: spec.fps)))))
            }
        }
    }

    /// Frame at time t: the whole canvas at t = 0 (so the first frame is the input image), then the picture
    /// growing by `zoom` with the clip's frame cut from it, drifting by the pan. Scaling the whole canvas
    /// to a size that changes by about a pixel a frame keeps the motion smooth (no whole-pixel crop steps).
    static func window(_ canvas: RGBImage, t: Double, panX: Double, panY: Double, width: Int, height: Int) throws -> RGBImage {
        let scale = 1 + zoom * t
        let w = max(width, Int((Double(width) * scale).rounded())), h = max(height, Int((Double(height) * scale).rounded()))
        let scaled = try canvas.resized(width: w, height: h)
        let slackX = w - width, slackY = h - height
        let x = Int((Double(slackX) * (0.5 + 0.5 * panX)).rounded()), y = Int((Double(slackY) * (0.5 + 0.5 * panY)).rounded())
        return scaled.cropped(x: min(max(0, x), slackX), y: min(max(0, y), slackY), width: width, height: height)
    }

    /// The generation's colour drift at `amount` (0…1) of the way through.
    static func drift(_ image: RGBImage, amount: Double) -> RGBImage {
        guard amount > 0 else { return image }
        let contrast = 1 - (1 - contrastEnd) * amount
        func table(_ lift: Double) -> [UInt8] {
            (0..<256).map { UInt8(max(0, min(255, ((Double($0) - 128) * contrast + 128 + lift * amount).rounded()))) }
        }
        let luts = [table(warmRed), table(0.5 * warmRed), table(warmBlue)]
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { px in
            luts[0].withUnsafeBufferPointer { r in
                luts[1].withUnsafeBufferPointer { g in
                    luts[2].withUnsafeBufferPointer { b in
                        var i = 0
                        while i < px.count {
                            px[i] = r[Int(px[i])]
                            px[i + 1] = g[Int(px[i + 1])]
                            px[i + 2] = b[Int(px[i + 2])]
                            i += 3
                        }
                    }
                }
            }
        }
        return out
    }

    /// (1 − weight)·a + weight·b, per byte.
    static func blend(_ a: RGBImage, _ b: RGBImage, weight: Double) -> RGBImage {
        let w = UInt32(max(0, min(256, (weight * 256).rounded())))
        var out = a
        out.pixels.withUnsafeMutableBufferPointer { dst in
            b.pixels.withUnsafeBufferPointer { src in
                for i in 0..<dst.count {
                    dst[i] = UInt8((UInt32(dst[i]) * (256 - w) + UInt32(src[i]) * w + 128) >> 8)
                }
            }
        }
        return out
    }

    /// A deterministic scene for a prompt: a two-colour gradient sky, a ground band and a few discs.
    static func scene(prompt: String, seed: UInt64, width: Int, height: Int) -> RGBImage {
        var random = SeededGenerator(seed: stableHash(prompt) ^ seed)
        func colour() -> (Double, Double, Double) {
            (Double(random.next() % 200) + 30, Double(random.next() % 200) + 30, Double(random.next() % 200) + 30)
        }
        let top = colour(), bottom = colour(), ground = colour()
        let horizon = Double(height) * (0.55 + Double(random.next() % 20) / 100)
        let discs = (0..<4).map { _ in
            (x: Double(random.next() % UInt64(width)), y: Double(random.next() % UInt64(height)),
             r: Double(height) * (0.05 + Double(random.next() % 12) / 100), c: colour())
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { px in
            for y in 0..<height {
                let fy = Double(y)
                let v = fy / Double(height - 1)
                let row = fy < horizon
                    ? (top.0 + (bottom.0 - top.0) * v, top.1 + (bottom.1 - top.1) * v, top.2 + (bottom.2 - top.2) * v)
                    : ground
                for x in 0..<width {
                    var c = row
                    for disc in discs {
                        let dx = Double(x) - disc.x, dy = fy - disc.y
                        if dx * dx + dy * dy < disc.r * disc.r { c = disc.c }
                    }
                    // A little texture so the encoder has detail to keep, like a real picture.
                    let grain = Double((x * 7 + y * 13) % 9) - 4
                    let i = (y * width + x) * 3
                    px[i] = UInt8(max(0, min(255, c.0 + grain)))
                    px[i + 1] = UInt8(max(0, min(255, c.1 + grain)))
                    px[i + 2] = UInt8(max(0, min(255, c.2 + grain)))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The pan direction for a seed, each axis in −1…1.
    static func pan(seed: UInt64) -> (Double, Double) {
        var random = SeededGenerator(seed: seed &+ 17)
        return (random.unit() * 2 - 1, random.unit() * 2 - 1)
    }

    /// Interleaved samples of 48 kHz stereo sound in one frame's time.
    static func samplesPerFrame(fps: Int) -> Int { 48_000 / fps * 2 }

    /// One frame's worth of a 48 kHz stereo soundtrack (empty past its end).
    static func slice(_ soundtrack: [Float], frame: Int, fps: Int) -> [Float] {
        let perFrame = samplesPerFrame(fps: fps)
        let start = min(soundtrack.count, frame * perFrame)
        return Array(soundtrack[start..<min(soundtrack.count, start + perFrame)])
    }

    /// One frame's worth of stereo audio: a soft tone whose pitch comes from the seed.
    static func tone(frame: Int, fps: Int, seed: UInt64) -> [Float] {
        let rate = 48_000, perFrame = rate / fps
        let frequency = 220 + Double(seed % 220)
        var samples = [Float](repeating: 0, count: perFrame * 2)
        for i in 0..<perFrame {
            let n = Double(frame * perFrame + i)
            let value = Float(0.2 * sin(2 * .pi * frequency * n / Double(rate)))
            samples[2 * i] = value
            samples[2 * i + 1] = value
        }
        return samples
    }

    static func even(_ value: Double) -> Int { max(2, Int(value.rounded()) & ~1) }
}
