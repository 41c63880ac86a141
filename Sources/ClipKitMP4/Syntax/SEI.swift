/// Supplemental enhancement information (H.264 §7.3.2.3, HEVC §7.3.5): the messages of an SEI NAL
/// unit, and the user_data_unregistered text encoders leave in the first access unit to say who
/// wrote the stream ("x264 - core 164 r3095 …", "x265 (build 199) - 3.5 …").
package enum SEI {
    package enum Codec: Sendable { case h264, hevc }

    /// One sei_message(): its payload type and bytes.
    package struct Message: Sendable, Hashable {
        package var type: Int
        package var payload: ArraySlice<UInt8>
    }

    /// payloadType of user_data_unregistered().
    package static let userDataUnregistered = 5

    /// The messages of an SEI NAL unit (header included); throws if a message runs past the end.
    package static func messages<C: Collection>(in nal: C, codec: Codec) throws(SyntaxError) -> [Message] where C.Element == UInt8 {
        let rbsp = RBSP.unescaped(nal.dropFirst(codec == .h264 ? 1 : 2))
        var messages: [Message] = []
        var offset = 0
        func varying() throws(SyntaxError) -> Int {  // ff_byte … last_payload_type_byte / size byte
            var value = 0
            while true {
                guard offset < rbsp.count else { throw SyntaxError("SEI ends inside a message header") }
                let byte = rbsp[offset]
                offset += 1
                value += Int(byte)
                if byte != 0xff { return value }
                guard value < 1 << 24 else { throw SyntaxError("SEI payload field too large") }
            }
        }
        // After the last message: the stop bit (0x80), then only zero bytes.
        while offset < rbsp.count, !(rbsp[offset] == 0x80 && rbsp[(offset + 1)...].allSatisfy { $0 == 0 }) {
            let type = try varying(), size = try varying()
            guard size <= rbsp.count - offset else { throw SyntaxError("SEI message overruns its NAL unit") }
            messages.append(Message(type: type, payload: rbsp[offset..<(offset + size)]))
            offset += size
        }
        return messages
    }

    /// The text of every user_data_unregistered message in the non-VCL NAL units before the first slice
    /// of an access unit (an MP4 sample when `nalLengthSize` is given, else Annex B), as UTF-8 after
    /// the 16-byte UUID, up to the first NUL. SEI units that cannot be read are passed over. Nil when
    /// the data ends inside a unit before the first slice: `bytes` may be the start of a sample, and
    /// then more of it is needed.
    package static func userDataTexts<C: RandomAccessCollection>(inAccessUnit bytes: C, codec: Codec, nalLengthSize: Int?) -> [String]?
    where C.Element == UInt8, C.Index == Int {
        var texts: [String] = []
        var offset = bytes.startIndex
        let annexB = nalLengthSize == nil ? NALUnits.annexB(bytes) : []
        var annexBIndex = 0
        while true {
            let nal: C.SubSequence
            if let lengthSize = nalLengthSize {
                guard (1...4).contains(lengthSize), offset < bytes.endIndex else { break }
                guard bytes.endIndex - offset >= lengthSize else { return nil }
                var length = 0
                for i in 0..<lengthSize { length = length << 8 | Int(bytes[offset + i]) }
                offset += lengthSize
                // A slice may be cut: only its header byte is needed to stop here.
                guard length > 0, offset < bytes.endIndex else { if length == 0 { continue } else { return nil } }
                nal = bytes[offset..<min(bytes.endIndex, offset + length)]
                if isVCL(nal, codec) { break }
                guard length <= bytes.endIndex - offset else { return nil }
                offset += length
            } else {
                guard annexBIndex < annexB.count else { break }
                nal = annexB[annexBIndex]
                annexBIndex += 1
                if isVCL(nal, codec) { break }
            }
            texts += userDataTexts(inNALUnit: nal, codec: codec)
        }
        return texts
    }

    /// The user_data_unregistered texts of one NAL unit if it is an SEI unit (H.264 type 6, HEVC
    /// prefix SEI), else none; a unit that cannot be read gives none.
    package static func userDataTexts<C: Collection>(inNALUnit nal: C, codec: Codec) -> [String] where C.Element == UInt8 {
        let isSEI = codec == .h264 ? H264.type(of: nal) == H264.NALType.sei : HEVC.type(of: nal) == HEVC.NALType.prefixSEI
        guard isSEI, let messages = try? messages(in: nal, codec: codec) else { return [] }
        return messages.filter { $0.type == userDataUnregistered && $0.payload.count > 16 }.map {
            String(decoding: $0.payload.dropFirst(16).prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// A slice (coded picture data): H.264 types 1–5, HEVC types below 32.
    private static func isVCL<C: Collection>(_ nal: C, _ codec: Codec) -> Bool where C.Element == UInt8 {
        switch codec {
        case .h264: (1...5).contains(H264.type(of: nal) ?? 0)
        case .hevc: (HEVC.type(of: nal) ?? 63) < HEVC.NALType.firstNonVCL
        }
    }
}
