import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

/// Clips written from one saturated picture the two ways clips are written: untagged, as imageio and
/// Wan's reference code write them (ffmpeg rgb24 → libx264 yuv420p, CRF 10, BT.601 by ffmpeg's default),
/// and tagged BT.709 (converted with BT.709 and saying so).
enum RoundTrip {
    enum Writer: String, CaseIterable, CustomStringConvertible, Sendable {
        case untagged, tagged709
        var description: String { rawValue }
        /// The matrix the writer converted RGB with.
        var matrix: String { self == .untagged ? "bt601" : "bt709" }
    }

    struct Case: CustomStringConvertible, Sendable {
        var width: Int
        var height: Int
        var writer: Writer
        var description: String { "\(width)x\(height) \(writer)" }
    }

    static let sizes = [(832, 480), (480, 832), (1280, 720), (1920, 1080)]
    static let cases = sizes.flatMap { size in Writer.allCases.map { Case(width: size.0, height: size.1, writer: $0) } }
    static let frames = 4

    /// The source picture: testsrc2's saturated bars and gradients with a mandelbrot inset.
    static func source(width: Int, height: Int) throws -> RGBImage {
        let graph = "testsrc2=s=\(width)x\(height):d=1[a];mandelbrot=s=\(width / 3)x\(height / 3):end_pts=1[b];[a][b]overlay=x=W/3:y=H/3"
        let raw = try Tool.run("ffmpeg", ["-v", "error", "-filter_complex", graph, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).stdout
        return RGBImage(width: width, height: height, pixels: [UInt8](raw))
    }

    /// Writes the clip (the source picture for every frame) and returns its path and the source.
    static func clip(_ c: Case) throws -> (path: String, source: RGBImage) {
        let source = try source(width: c.width, height: c.height)
        let raw = Fixtures.shared.scratch("source-\(c.width)x\(c.height).rgb")
        try Data((0..<frames).flatMap { _ in source.pixels }).write(to: URL(fileURLWithPath: raw))
        defer { try? FileManager.default.removeItem(atPath: raw) }
        let path = Fixtures.shared.scratch("roundtrip-\(c.width)x\(c.height)-\(c.writer).mp4")
        let input = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(c.width)x\(c.height)", "-r", "16", "-i", raw]
        let encode = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-crf", "10"]
        let colour = c.writer == .untagged ? [] : [
            "-vf", "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int",
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        ]
        try Tool.run("ffmpeg", ["-v", "error", "-y"] + input + colour + encode + [path])
        return (path, source)
    }

    /// The oracle: ffmpeg's accurate decode with the matrix the writer used, frame `index` as RGB.
    static func oracle(_ path: String, matrix: String, index: Int, width: Int, height: Int) throws -> RGBImage {
        let raw = try Tool.run("ffmpeg", ["-v", "error", "-i", path, "-vf",
                                          "select=eq(n\\,\(index)),scale=in_color_matrix=\(matrix):flags=accurate_rnd+full_chroma_int",
                                          "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).stdout
        return RGBImage(width: width, height: height, pixels: [UInt8](raw.prefix(width * height * 3)))
    }
}

@Suite("Colour")
struct ColorTests {
    @Test("first and last frame: ΔE to the source within 0.5 of an accurate decode with the encoder's matrix",
          arguments: RoundTrip.cases)
    func roundTrip(_ c: RoundTrip.Case) throws {
        let (path, source) = try RoundTrip.clip(c)
        let info = MediaProbe.probe(path)
        let color = try #require(info.video?.color)
        #expect(color.matrix.rawValue == c.writer.matrix)
        #expect(color.tagged == (c.writer == .tagged709))
        #expect(color.basis == (c.writer == .tagged709 ? .tag : .x264))
        for (position, index) in [(FramePosition.first, 0), (.last, RoundTrip.frames - 1)] {
            let frame = try FrameExtractor.extractFrame(position, from: path)
            #expect(frame.color.matrix.rawValue == c.writer.matrix)
            let ours = frame.image.meanDeltaE(against: source)
            let reference = try RoundTrip.oracle(path, matrix: c.writer.matrix, index: index, width: c.width, height: c.height)
                .meanDeltaE(against: source)
            #expect(abs(ours - reference) <= 0.5, "\(c) \(position): ΔE \(ours), accurate decode \(reference)")
            // The other matrix is clearly wrong on this content: the test can tell them apart.
            let other: MatrixChoice = c.writer == .untagged ? .bt709 : .bt601
            let wrong = try FrameExtractor.extract(position, from: path, matrix: other).meanDeltaE(against: source)
            #expect(wrong > ours + 2, "\(c) \(position): ΔE \(ours) with the right matrix, \(wrong) with \(other)")
            print("round trip \(c) \(position): ΔE \(ours) (oracle \(reference), \(other) \(wrong))")
        }
    }
}
