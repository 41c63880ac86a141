import CFFmpeg
import ClipKitMP4
import ClipKitCore
import Foundation

/// Reads what a clip really contains (`MediaInfo`) from its header, without decoding.
public enum MediaProbe {
    /// Probes one local file or URL, blocking the calling thread (library users call the `async` one). Never throws: a file that cannot be probed comes back with `error`
    /// set (and whatever could still be read, e.g. the header of a truncated file).
    ///
    /// A local, ordinary MP4 is answered from its index in pure Swift (`MP4Probe`), which gives the
    /// same `MediaInfo` as FFmpeg without its cost; anything else, and every deep probe, goes to FFmpeg.
    /// URLs too: the Range-reading remote probe is async (`probe(_:deep:) async`), and this one blocks.
    /// - Parameter deep: also decode every frame, to catch truncated or corrupt data behind a good header.
    package static func probe(_ path: String, deep: Bool = false) -> MediaInfo {
        if !deep, !path.contains("://"), let info = MP4Probe.probe(path) { return info }
        return probeWithFFmpeg(path, deep: deep)
    }

    /// Probes through libavformat only, never the MP4 fast path: the reference `MP4Probe` is held to.
    package static func probeWithFFmpeg(_ path: String, deep: Bool = false) -> MediaInfo {
        var info = MediaInfo(path: path)
        do {
            try probe(path, deep: deep, into: &info)
        } catch let problem as MediaProblem {
            info.error = problem
        } catch {
            info.error = MediaProblem(.unreadable, "\(error)")
        }
        return info
    }

    private static func probe(_ path: String, deep: Bool, into info: inout MediaInfo) throws {
        let (input, sniff) = try openInput(path)
        let isMOV = isMOV(input)
        info.container = containerName(input, isMOV: isMOV)
        info.fileSize = sniff?.size ?? fileSize(input)

        let videoIndex = findVideo(input)
        let duration = input.context.pointee.duration
        info.duration = duration > 0 ? Double(duration) / Double(AV_TIME_BASE) : nil
        if let audioIndex = input.bestStream(AVMEDIA_TYPE_AUDIO) { info.audio = audioInfo(input.stream(audioIndex)) }

        guard let videoIndex else {
            throw MediaProblem(.noVideo, "\(path): no video stream (\(info.audio == nil ? "no streams to show" : "audio only"))")
        }
        // FFmpeg reads a PNG or JPEG as a one-frame "video"; nobody is billed for one as a clip.
        let format = String(cString: input.context.pointee.iformat.pointee.name)
        if format.hasSuffix("_pipe") || format == "image2" {
            throw MediaProblem(.noVideo, "\(path): a still image (\(format.replacingOccurrences(of: "_pipe", with: ""))), not a video")
        }
        let stream = input.stream(videoIndex)
        // Index counting is exact only when the moov holds every sample; fragments are counted from packets.
        var counted = isMOV && sniff?.hasMoof != true && avformat_index_get_entries_count(stream) > 0
            ? countFromIndex(stream) : try countFromPackets(input, stream: videoIndex)
        if counted.firstPacket == nil { counted.firstPacket = try? firstPacket(input, stream: videoIndex) }
        info.video = videoInfo(stream, counted: counted, encoderTag: metadata(input.context.pointee.metadata, "encoder"))

        // A deep decode runs even on a file known to be cut, to report how much of it really plays.
        let decoded = deep ? try decodeAll(input, stream: videoIndex) : nil
        info.video?.decodedFrames = decoded?.frames
        info.video?.decodeErrors = decoded?.errors
        if let cut = sniff?.cutBox {
            throw MediaProblem(.truncated, "\(path): file is cut short inside its '\(cut)' box (incomplete download?)")
        }
        if let size = sniff?.size, counted.endOfData > size {
            throw MediaProblem(.truncated, "\(path): the index points \(counted.endOfData - size) bytes past the end of the file (incomplete download?)")
        }
        if let decoded, decoded.errors > 0 || decoded.frames < counted.frames {
            throw MediaProblem(.truncated, "\(path): deep decode gave \(decoded.frames) of \(counted.frames) frames with \(decoded.errors) decode errors (truncated or corrupt data)")
        }
    }

    /// Opens a local file or URL, turning every way it can fail into a `MediaProblem` with its code.
    /// Local files are checked first (missing, empty, a text page, a cut MP4), URLs go straight to FFmpeg.
    static func openInput(_ path: String) throws -> (InputFile, FileSniff?) {
        let sniff = path.contains("://") ? nil : try FileSniffer.sniff(path)
        do {
            return (try InputFile(path: path, formatName: sniff?.isISOBMFF == true ? "mp4" : nil), sniff)
        } catch {
            throw openProblem(path, sniff: sniff, error: error)
        }
    }

    /// Classifies a failed open: a cut download, a page that is not media, or something unreadable.
    private static func openProblem(_ path: String, sniff: FileSniff?, error: any Error) -> MediaProblem {
        if let sniff, sniff.isISOBMFF {
            if let cut = sniff.cutBox { return MediaProblem(.truncated, "\(path): file is cut short inside its '\(cut)' box (incomplete download?)") }
            if !sniff.hasMoov { return MediaProblem(.truncated, "\(path): MP4 has no index (moov box missing: incomplete download or recording never finished)") }
        }
        if case FFmpegError.invalidData = error {
            return MediaProblem(.notMedia, "\(path): not a recognised media file (\(error))")
        }
        return MediaProblem(.unreadable, "\(path): \(error)")
    }

    /// Frames counted, the time they span, and how far into the file their data reaches.
    struct Counted {
        var frames: Int
        /// Seconds from the first displayed frame to the end of the last, if the count source knows it.
        var duration: Double?
        var bytes: Int64
        var endOfData: Int64
        /// The stream's first packet as read, for the writer's SEI.
        var firstPacket: [UInt8]? = nil
    }

    /// Counts the samples the MP4 index will show. The mov demuxer applies edit lists to its index and
    /// flags the samples an edit hides with AVINDEX_DISCARD_FRAME, so they are left out.
    private static func countFromIndex(_ stream: UnsafeMutablePointer<AVStream>) -> Counted {
        var counted = Counted(frames: 0, duration: nil, bytes: 0, endOfData: 0)
        for i in 0..<avformat_index_get_entries_count(stream) {
            guard let entry = avformat_index_get_entry(stream, i)?.pointee else { continue }
            counted.endOfData = max(counted.endOfData, entry.pos + Int64(entry.size))
            if Int32(entry.flags) & AVINDEX_DISCARD_FRAME != 0 { continue }
            counted.frames += 1
            counted.bytes += Int64(entry.size)
        }
        return counted
    }

    /// Counts video packets by reading packet headers (no decoding): for fragmented MP4 and other containers.
    private static func countFromPackets(_ input: InputFile, stream index: Int) throws -> Counted {
        input.selectOnly(index)
        let packet = Packet()
        var counted = Counted(frames: 0, duration: nil, bytes: 0, endOfData: 0)
        var first = Int64.max, end = Int64.min
        while try input.read(into: packet) {
            guard packet.streamIndex == index else { continue }
            if counted.firstPacket == nil { counted.firstPacket = Array(packet.bytes) }
            guard !packet.isDiscarded else { continue }
            counted.frames += 1
            counted.bytes += Int64(packet.size)
            let pts = packet.pts != cffmpeg_nopts_value() ? packet.pts : packet.dts
            guard pts != cffmpeg_nopts_value() else { continue }
            first = min(first, pts)
            end = max(end, pts + packet.duration)
        }
        if end > first { counted.duration = Double(end - first) * av_q2d(input.stream(index).pointee.time_base) }
        return counted
    }

    /// The first packet of a stream, read from where the input is (its start, after opening).
    private static func firstPacket(_ input: InputFile, stream index: Int) throws -> [UInt8]? {
        input.selectOnly(index)
        let packet = Packet()
        while try input.read(into: packet) {
            if packet.streamIndex == index { return Array(packet.bytes) }
        }
        return nil
    }

    private static func metadata(_ dictionary: OpaquePointer?, _ key: String) -> String? {
        av_dict_get(dictionary, key, nil, 0).map { String(cString: $0.pointee.value) }
    }

    private static func decodeAll(_ input: InputFile, stream index: Int) throws -> (frames: Int, errors: Int) {
        try input.rewind()  // counting may have read every packet already
        input.selectOnly(index)
        let decoder = try Decoder(for: input, stream: index)
        let packet = Packet(), frame = Frame()
        var frames = 0, errors = 0
        while true {
            let more: Bool
            do {
                more = try input.read(into: packet)
            } catch {
                errors += 1  // a read error mid-file is damage; what was decoded so far still counts
                more = false
            }
            if more, packet.streamIndex != index { continue }
            if more, packet.isCorrupt { errors += 1 }
            try decoder.decode(more ? packet : nil, into: frame, errors: &errors) { _ in frames += 1 }
            if !more { return (frames, errors) }
        }
    }

    private static func videoInfo(_ stream: UnsafeMutablePointer<AVStream>, counted: Counted, encoderTag: String?) -> VideoInfo {
        let par = stream.pointee.codecpar.pointee
        let timeBase = av_q2d(stream.pointee.time_base)
        let sets = parameterSets(stream)
        let profileNumber = par.profile != FF_PROFILE_UNKNOWN ? par.profile : sets?.profile
        let profile = profileNumber.flatMap { avcodec_profile_name(par.codec_id, $0) }.map { String(cString: $0) }
        let color = self.color(stream, encoderTag: encoderTag, firstPacket: counted.firstPacket)
        let pixelFormat: String? = par.format >= 0
            ? av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format)).map { String(cString: $0) }
            : sets?.pixelFormatName(fullRange: color.range == .pc)

        let rotation = clockwiseRotation(stream)
        var displayWidth = Int(par.width), displayHeight = Int(par.height)
        let sar = par.sample_aspect_ratio
        if sar.num > 0, sar.den > 0, sar.num != sar.den { displayWidth = displayWidth * Int(sar.num) / Int(sar.den) }
        if rotation % 180 != 0 { swap(&displayWidth, &displayHeight) }

        var duration = counted.duration
        if duration == nil, stream.pointee.duration > 0 { duration = Double(stream.pointee.duration) * timeBase }
        var frameRate = Rational(Int(stream.pointee.avg_frame_rate.num), Int(stream.pointee.avg_frame_rate.den))
        if !frameRate.isValid { frameRate = Rational(Int(stream.pointee.r_frame_rate.num), Int(stream.pointee.r_frame_rate.den)) }
        var bitRate = Int(par.bit_rate)
        if bitRate <= 0, let duration, duration > 0 { bitRate = Int(Double(counted.bytes * 8) / duration) }

        return VideoInfo(
            codec: String(cString: avcodec_get_name(par.codec_id)), profile: profile,
            width: Int(par.width), height: Int(par.height), displayWidth: displayWidth, displayHeight: displayHeight,
            rotation: rotation, pixelFormat: pixelFormat, frameRate: frameRate.isValid ? frameRate.reduced : nil,
            frameCount: counted.frames, duration: duration, bitRate: bitRate > 0 ? bitRate : nil, color: color)
    }

    /// The facts probe needs from an H.264/HEVC stream's extradata (avcC, hvcC, Annex B).
    private static func parameterSets(_ stream: UnsafeMutablePointer<AVStream>) -> ParameterSets? {
        let par = stream.pointee.codecpar.pointee
        let extradata = par.extradata.map { Array(UnsafeBufferPointer(start: $0, count: Int(par.extradata_size))) } ?? []
        switch par.codec_id {
        case AV_CODEC_ID_H264: return ParameterSets.h264(extradata)
        case AV_CODEC_ID_HEVC: return ParameterSets.hevc(extradata)
        default: return nil
        }
    }

    /// A stream's colour by the one rule (`VideoColor(evidence:)`), from the evidence FFmpeg exposes:
    /// the demuxer's tags (an MP4 colr box; for other containers after find_stream_info, the decoder's
    /// view), the VUI in the extradata, the container's encoder tag and the SEI of the first packet.
    static func color(_ stream: UnsafeMutablePointer<AVStream>, encoderTag: String?, firstPacket: [UInt8]?) -> VideoColor {
        let par = stream.pointee.codecpar.pointee
        let sets = parameterSets(stream)
        let container = ColorTags(matrix: Int(par.color_space.rawValue), primaries: Int(par.color_primaries.rawValue),
                                  transfer: Int(par.color_trc.rawValue),
                                  fullRange: par.color_range == AVCOL_RANGE_JPEG ? true : par.color_range == AVCOL_RANGE_MPEG ? false : nil)
        let codec = String(cString: avcodec_get_name(par.codec_id))
        let sei = firstPacket.flatMap { StreamColor.seiTexts(codec: codec, parameterSets: sets, firstAccessUnit: $0) } ?? []
        return VideoColor(evidence: StreamColor.evidence(parameterSets: sets, container: container, encoderTag: encoderTag, seiTexts: sei))
    }

    /// The colour `probe` reports for a file's video, without counting its frames: the MP4 fast path's
    /// answer when it has one, else FFmpeg's view of a separate opening (so a caller's own reading
    /// position is untouched). Nil without a video stream.
    /// - Throws: `MediaProblem` if the file cannot be opened.
    package static func color(_ path: String) throws -> VideoColor? {
        if !path.contains("://"), let color = MP4Probe.probe(path)?.video?.color { return color }
        let (input, _) = try openInput(path)
        guard let index = findVideo(input) else { return nil }
        return color(input.stream(index), encoderTag: metadata(input.context.pointee.metadata, "encoder"),
                     firstPacket: try? firstPacket(input, stream: index))
    }

    /// The video stream probe reports on. MP4 headers carry everything probe reports; other containers
    /// (and an MP4 stream without a size) may need a look at the packets first, and so does a fragmented
    /// MP4, whose mvhd has no duration: avformat_find_stream_info derives the container's from the
    /// fragments' streams, as ffprobe reports it.
    private static func findVideo(_ input: InputFile) -> Int? {
        let index = input.bestStream(AVMEDIA_TYPE_VIDEO)
        if !isMOV(input) || index.map({ input.stream($0).pointee.codecpar.pointee.width == 0 }) ?? true
            || input.context.pointee.duration <= 0 {
            try? input.findStreamInfo()
            return input.bestStream(AVMEDIA_TYPE_VIDEO)
        }
        return index
    }

    private static func isMOV(_ input: InputFile) -> Bool {
        String(cString: input.context.pointee.iformat.pointee.name).hasPrefix("mov,")
    }

    static func audioInfo(_ stream: UnsafeMutablePointer<AVStream>) -> AudioInfo {
        let par = stream.pointee.codecpar.pointee
        let duration = stream.pointee.duration > 0 ? Double(stream.pointee.duration) * av_q2d(stream.pointee.time_base) : nil
        return AudioInfo(codec: String(cString: avcodec_get_name(par.codec_id)), sampleRate: Int(par.sample_rate),
                         channels: Int(par.ch_layout.nb_channels), duration: duration)
    }

    /// The clockwise rotation a player applies, from the stream's display matrix, snapped to 0/90/180/270.
    static func clockwiseRotation(_ stream: UnsafeMutablePointer<AVStream>) -> Int {
        guard let matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nil) else { return 0 }
        // av_display_rotation_get is counter-clockwise; ffmpeg's autorotate negates it the same way.
        let counterClockwise = av_display_rotation_get(UnsafeRawPointer(matrix).assumingMemoryBound(to: Int32.self))
        guard counterClockwise.isFinite else { return 0 }
        let clockwise = Int((-counterClockwise / 90).rounded()) * 90
        return (clockwise % 360 + 360) % 360
    }

    static func containerName(_ input: InputFile, isMOV: Bool) -> String {
        let names = String(cString: input.context.pointee.iformat.pointee.name)
        guard isMOV else { return String(names.split(separator: ",").first ?? Substring(names)) }
        let brand = av_dict_get(input.context.pointee.metadata, "major_brand", nil, 0).map { String(cString: $0.pointee.value) }
        return brand?.hasPrefix("qt") == true ? "mov" : "mp4"
    }

    static func fileSize(_ input: InputFile) -> Int64? {
        guard let pb = input.context.pointee.pb else { return nil }
        let size = avio_size(pb)
        return size >= 0 ? size : nil
    }
}
