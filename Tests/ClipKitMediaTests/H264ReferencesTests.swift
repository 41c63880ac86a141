import CFFmpeg
@testable import ClipKitMedia
import ClipKitTestSupport
import Testing

@Suite("H.264 reference chains")
struct H264ReferencesTests {
    // That the pictures left out change nothing is FrameTests' full-decode comparison on the same
    // fixtures; this checks that pictures are left out at all, so the fast path cannot quietly vanish.
    @Test("the last frame's chain leaves out reference B-pictures that later pictures never use",
          arguments: [Fixture.singleGOP, .bPyramid])
    func chainSkipsUnusedReferences(_ fixture: Fixture) throws {
        let input = try InputFile(path: try Fixtures.shared.path(fixture))
        let index = try #require(input.bestStream(AVMEDIA_TYPE_VIDEO))
        input.selectOnly(index)
        var packets: [Packet] = []
        let packet = Packet()
        while try input.read(into: packet) { packets.append(packet.clone()) }
        let model = try #require(H264References(stream: input.stream(index)))
        let shownLast = try #require(packets.indices.max { packets[$0].pts < packets[$1].pts })

        let needed = try #require(model.picturesNeeded(toDecode: shownLast, packets: packets.map(\.bytes)))
        let referencePictures = packets.indices.filter { Self.isReferencePicture(packets[$0].bytes) }
        #expect(needed.contains(0) && needed.contains(shownLast))
        #expect(needed.subtracting([shownLast]).isSubset(of: Set(referencePictures)))
        #expect(needed.count < referencePictures.count, "\(needed.count) needed of \(referencePictures.count) reference pictures")
    }

    /// nal_ref_idc of the access unit's slices (4-byte NAL lengths, as x264 writes them).
    private static func isReferencePicture(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset + 5 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let header = bytes[offset + 4]
            if [1, 5].contains(header & 0x1f) { return header >> 5 != 0 }
            offset += 4 + length
        }
        return false
    }
}
