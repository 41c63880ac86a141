import ClipKitCore
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

@Suite("Frames")
struct FrameTests {
    @Test("the last frame is the one a full ffmpeg decode shows last", arguments: Fixture.allCases)
    func lastFrameMatchesFullDecode(_ fixture: Fixture) throws {
        let path = try Fixtures.shared.path(fixture)
        let reference = try Oracle.decodedFrames(path)
        let last = try FrameExtractor.extract(.last, from: path)
        let psnr = last.psnr(against: reference[reference.count - 1])
        // Rotation is applied after colour conversion here and before it in ffmpeg: equal to ~70 dB.
        #expect(psnr > (fixture == .rotated ? 60 : 99), "PSNR \(psnr) dB")
        // …and it is not its neighbour: the fixtures move, so adjacent frames differ clearly.
        #expect(last.psnr(against: reference[reference.count - 2]) < psnr - 10)
    }

    @Test("first, index and time select the same frames as ffmpeg's decode",
          arguments: [Fixture.editListCut, .variableFrameRate, .faststart, .hevc])
    func otherPositions(_ fixture: Fixture) throws {
        let path = try Fixtures.shared.path(fixture)
        let reference = try Oracle.decodedFrames(path)
        #expect(try FrameExtractor.extract(.first, from: path) == reference[0])
        let middle = reference.count / 2
        #expect(try FrameExtractor.extract(.index(middle), from: path) == reference[middle])
        #expect(throws: FrameRangeError.self) { try FrameExtractor.extract(.index(reference.count), from: path) }
        #expect(throws: FrameRangeError.self) { try FrameExtractor.extract(.time(100), from: path) }
    }

    @Test("time picks the frame on screen at that moment")
    func timePosition() throws {
        let path = Samples.path(Samples.t2v480p)  // 30 fps: frame n covers [n/30, (n+1)/30)
        let reference = try Oracle.decodedFrames(path)
        #expect(try FrameExtractor.extract(.time(2.5), from: path) == reference[75])
        #expect(try FrameExtractor.extract(.time(2.52), from: path) == reference[75])
        #expect(try FrameExtractor.extract(.time(0), from: path) == reference[0])
    }

    @Test("untagged HD is read with BT.601, as ffmpeg reads it; --matrix bt709 reads it as ffmpeg told BT.709 does")
    func untaggedHDMatrix() throws {
        let path = try Fixtures.shared.path(.untaggedHD)
        let extracted = try FrameExtractor.extractFrame(.last, from: path)
        #expect(extracted.color.matrix == .bt601 && !extracted.color.tagged && extracted.color.basis == .x264)
        let decoded = try Oracle.decodedFrames(path)
        #expect(extracted.image.psnr(against: decoded[decoded.count - 1]) > 99)
        let ours = try FrameExtractor.extract(.last, from: path, matrix: .bt709)
        let as709 = try Tool.run("ffmpeg", ["-v", "error", "-i", path, "-vf", "scale=in_color_matrix=bt709:flags=bicubic+accurate_rnd+full_chroma_int+full_chroma_inp",
                                            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).stdout
        let frameBytes = ours.width * ours.height * 3
        let reference = RGBImage(width: ours.width, height: ours.height, pixels: [UInt8](as709.suffix(frameBytes)))
        #expect(ours.psnr(against: reference) > 50)
    }

    @Test("without autorotate the stored orientation is kept")
    func noAutorotate() throws {
        let path = try Fixtures.shared.path(.rotated)
        let upright = try FrameExtractor.extract(.last, from: path)
        let stored = try FrameExtractor.extract(.last, from: path, autorotate: false)
        #expect(stored.width == upright.height && stored.height == upright.width)
        #expect(stored.rotated(clockwise: 270) == upright)
    }

    @Test("PNG round-trips exactly; JPEG stays close; existing files are not overwritten")
    func imageFiles() throws {
        let image = try FrameExtractor.extract(.last, from: Samples.path(Samples.t2v480p))
        let png = Fixtures.shared.scratch("last.png"), jpeg = Fixtures.shared.scratch("last.jpg")
        try image.write(to: png)
        try image.write(to: jpeg)
        #expect(try RGBImage.load(png) == image)
        #expect(try RGBImage.load(jpeg).psnr(against: image) > 30)
        #expect(throws: OutputFileError.exists(png)) { try image.write(to: png) }
        try image.write(to: png, overwrite: true)
        // Only this test's partial files: other tests write into the same directory at the same time.
        let stems = [png, jpeg].map { "." + URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent + ".partial-" }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Fixtures.shared.directory)
            .filter { name in stems.contains { name.hasPrefix($0) } }
        #expect(leftovers.isEmpty)
    }

    @Test("bad inputs fail with their code, not a crash")
    func badInputs() throws {
        let xml = try Fixtures.shared.file("expired-frame.mp4", bytes: Array("<?xml version=\"1.0\"?><Error/>".utf8))
        #expect { try FrameExtractor.extract(.last, from: xml) } throws: { ($0 as? MediaProblem)?.code == .notMedia }
        #expect { try FrameExtractor.extract(.last, from: "/no/such/clip.mp4") } throws: { ($0 as? MediaProblem)?.code == .notFound }
    }
}
