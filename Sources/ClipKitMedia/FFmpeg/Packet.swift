import CFFmpeg

/// Owns one AVPacket (av_packet_alloc / av_packet_free).
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() {
        guard let p = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        pointer = p
    }

    /// A new packet referencing the same data (av_packet_ref): cheap, for buffering packets. Demuxed
    /// packets are reference counted, so av_packet_ref only allocates: its failure is out of memory.
    func clone() -> Packet {
        let copy = Packet()
        guard av_packet_ref(copy.pointer, pointer) >= 0 else { fatalError("av_packet_ref: out of memory") }
        return copy
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }

    var streamIndex: Int { Int(pointer.pointee.stream_index) }
    var pts: Int64 { pointer.pointee.pts }
    var dts: Int64 { pointer.pointee.dts }
    var duration: Int64 { pointer.pointee.duration }
    var size: Int { Int(pointer.pointee.size) }
    var isKeyframe: Bool { pointer.pointee.flags & AV_PKT_FLAG_KEY != 0 }
    /// Set by the demuxer for samples an edit list hides: decoded for reference, never shown.
    var isDiscarded: Bool { pointer.pointee.flags & AV_PKT_FLAG_DISCARD != 0 }
    /// The packet's payload; valid while the packet holds it.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer.pointee.data, count: size) }
    var isCorrupt: Bool { pointer.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 }

    func unref() { av_packet_unref(pointer) }
}
