@testable import ClipKitMP4
import ClipKitTestSupport
import Foundation
import Testing

/// The H.264/HEVC syntax reader against ffprobe on real streams, and against damaged copies of the
/// same bytes, which it must refuse without trapping.
@Suite("H.264/HEVC syntax")
struct SyntaxTests {
    /// The first `frames` access units of a clip's video as an Annex B byte stream (parameter sets in band).
    static func annexB(_ path: String, codec: SEI.Codec, frames: Int = 3) throws -> [UInt8] {
        let format = codec == .h264 ? "h264" : "hevc"
        return [UInt8](try Tool.run("ffmpeg", ["-v", "error", "-i", path, "-map", "0:v:0", "-c", "copy", "-frames:v", "\(frames)",
                                               "-f", format, "-"]).stdout)
    }

    static let h264Clips: [String] = [Samples.path(Samples.t2v480p), Samples.path(Samples.hd1080p)]

    @Test("H.264 SPS, PPS and slice headers of real streams read as ffprobe reports them",
          arguments: [Fixture.bPyramid, .singleGOP, .intraRefresh, .variableFrameRate])
    func h264Stream(_ fixture: Fixture) throws {
        let path = try Fixtures.shared.path(fixture)
        let units = NALUnits.annexB(try Self.annexB(path, codec: .h264))
        let sps = try H264.SequenceParameterSet(nal: try #require(units.first { H264.type(of: $0) == 7 }))
        let pps = try H264.PictureParameterSet(nal: try #require(units.first { H264.type(of: $0) == 8 }))
        #expect("\(sps.levelIDC)" == (try Oracle.streamField(path, "level")))
        // x264 stores at least the reference frames it was asked for (its SEI lists its options: "ref=4").
        let options = SEI.userDataTexts(inAccessUnit: units.flatMap { [0, 0, 1] + $0 }, codec: .h264, nalLengthSize: nil)?.first ?? ""
        let asked = try #require(options.firstMatch(of: /ref=(\d+)/).map { Int($0.1)! })
        #expect(sps.maxReferenceFrames >= asked)
        let (width, height) = (try Oracle.streamField(path, "width,height")).split(separator: ",").compactMap { Int($0) }.pair
        #expect(sps.widthInMacroblocks == (width + 15) / 16 && sps.heightInMapUnits == (height + 15) / 16)
        #expect(sps.frameMacroblocksOnly && sps.chromaFormat == 1 && sps.bitDepthLuma == 8)
        let slices = try units.filter { [1, 5].contains(H264.type(of: $0)) }.map {
            try H264.SliceHeader(nal: $0, sequenceSets: [sps.id: sps], pictureSets: [pps.id: pps])
        }
        #expect(slices.first?.isIDR == true && slices.first?.kind == .i)
        #expect(slices.allSatisfy { $0.ppsID == pps.id && $0.frameNum < sps.maxFrameNum })
    }

    @Test("HEVC SPS: size, profile, level and bit depth as ffprobe reports them")
    func hevcStream() throws {
        let path = try Fixtures.shared.path(.hevc)
        let units = NALUnits.annexB(try Self.annexB(path, codec: .hevc))
        let sps = try HEVC.SequenceParameterSet(nal: try #require(units.first { HEVC.type(of: $0) == 33 }))
        #expect("\(sps.width),\(sps.height)" == (try Oracle.streamField(path, "width,height")))
        #expect("\(sps.generalLevelIDC)" == (try Oracle.streamField(path, "level")))
        #expect(sps.generalProfileIDC == 2 && sps.bitDepthLuma == 10 && sps.chromaFormat == 1)  // Main 10
    }

    @Test("the writer's user data SEI is found in the first access unit: x264 and x265")
    func encoderSEI() throws {
        let h264 = try Self.annexB(try Fixtures.shared.path(.indexAtEnd), codec: .h264, frames: 1)
        let x264 = SEI.userDataTexts(inAccessUnit: h264, codec: .h264, nalLengthSize: nil) ?? []
        #expect(x264.contains { $0.hasPrefix("x264 - core ") }, "\(x264)")
        let hevc = try Self.annexB(try Fixtures.shared.path(.hevc), codec: .hevc, frames: 1)
        let x265 = SEI.userDataTexts(inAccessUnit: hevc, codec: .hevc, nalLengthSize: nil) ?? []
        #expect(x265.contains { $0.hasPrefix("x265 (build ") }, "\(x265)")
    }

    @Test("damaged input never traps: every truncation and every early byte corrupted, of real NAL units")
    func damagedInput() throws {
        var nals: [(bytes: [UInt8], codec: SEI.Codec)] = []
        for fixture in [Fixture.bPyramid, .intraRefresh] {
            nals += NALUnits.annexB(try Self.annexB(try Fixtures.shared.path(fixture), codec: .h264)).map { (Array($0.prefix(300)), .h264) }
        }
        nals += NALUnits.annexB(try Self.annexB(try Fixtures.shared.path(.hevc), codec: .hevc, frames: 1)).map { (Array($0.prefix(300)), .hevc) }
        let spsUnits = nals.filter { $0.codec == .h264 && H264.type(of: $0.bytes) == 7 }.compactMap { try? H264.SequenceParameterSet(nal: $0.bytes) }
        let ppsUnits = nals.filter { $0.codec == .h264 && H264.type(of: $0.bytes) == 8 }.compactMap { try? H264.PictureParameterSet(nal: $0.bytes) }
        let sequenceSets = Dictionary(spsUnits.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let pictureSets = Dictionary(ppsUnits.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func parseEverything(_ bytes: [UInt8], _ codec: SEI.Codec) {
            _ = try? H264.SequenceParameterSet(nal: bytes)
            _ = try? H264.PictureParameterSet(nal: bytes)
            _ = try? H264.SliceHeader(nal: bytes, sequenceSets: sequenceSets, pictureSets: pictureSets)
            _ = try? HEVC.SequenceParameterSet(nal: bytes)
            _ = try? SEI.messages(in: bytes, codec: codec)
            _ = SEI.userDataTexts(inAccessUnit: bytes, codec: codec, nalLengthSize: 4)
            _ = SEI.userDataTexts(inAccessUnit: bytes, codec: codec, nalLengthSize: nil)
            _ = try? AVCConfiguration(bytes)
            _ = try? HEVCConfiguration(bytes)
            _ = ParameterSets.h264(bytes)
            _ = ParameterSets.hevc(bytes)
        }
        for (bytes, codec) in nals {
            for length in 0...bytes.count { parseEverything(Array(bytes.prefix(length)), codec) }
        }
        // Every byte of each unit's first 96 flipped, zeroed, saturated, or followed by a run of 0xff.
        for (original, codec) in nals {
            for at in 0..<min(original.count, 96) {
                for damage in 0..<4 {
                    var bytes = original
                    switch damage {
                    case 0: bytes[at] ^= UInt8(1 << (at % 8))
                    case 1: bytes[at] = 0
                    case 2: bytes[at] = 0xff
                    default: bytes.insert(contentsOf: [0xff, 0xff, 0xff], at: at)
                    }
                    parseEverything(bytes, codec)
                }
            }
        }
        #expect(sequenceSets.count >= 1 && pictureSets.count >= 1)
    }
}

private extension Array {
    var pair: (Element, Element) { (self[0], self[1]) }
}
