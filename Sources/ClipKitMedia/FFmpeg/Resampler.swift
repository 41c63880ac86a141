import CFFmpeg

/// Owns one SwrContext (swr_alloc_set_opts2 / swr_free): converts decoded audio to interleaved float
/// at a fixed rate and channel count.
final class Resampler {
    let context: OpaquePointer
    let outputRate: Int
    let outputChannels: Int

    /// - Throws: `FFmpegError` from swr_alloc_set_opts2 / swr_init (e.g. a stream without a sample format).
    init(from decoder: Decoder, toRate rate: Int, channels: Int) throws(FFmpegError) {
        outputRate = rate
        outputChannels = channels
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, Int32(channels))
        defer { av_channel_layout_uninit(&outLayout) }
        var inLayout = AVChannelLayout()
        defer { av_channel_layout_uninit(&inLayout) }
        let ctx = decoder.context
        if ctx.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || ctx.pointee.ch_layout.nb_channels == 0 {
            av_channel_layout_default(&inLayout, max(1, ctx.pointee.ch_layout.nb_channels))
        } else {
            av_channel_layout_copy(&inLayout, &ctx.pointee.ch_layout)
        }
        var swr: OpaquePointer? = nil
        // swr_alloc_set_opts2 frees what it allocated when it fails.
        try check(swr_alloc_set_opts2(&swr, &outLayout, AV_SAMPLE_FMT_FLT, Int32(rate), &inLayout, ctx.pointee.sample_fmt,
                                      ctx.pointee.sample_rate, 0, nil), "swr_alloc_set_opts2", decoder.target)
        // Initialised on the local, assigned last (see Decoder.init): freed here or by deinit, never both.
        do {
            try check(swr_init(swr), "swr_init", decoder.target)
        } catch {
            swr_free(&swr)
            throw error
        }
        context = swr!
    }

    deinit {
        var s: OpaquePointer? = context
        swr_free(&s)
    }

    /// Converts one decoded frame (nil drains) and appends the interleaved samples to `samples`.
    func convert(_ frame: Frame?, into samples: inout [Float]) {
        let inCount = frame.map { Int($0.pointer.pointee.nb_samples) } ?? 0
        let capacity = Int(swr_get_out_samples(context, Int32(inCount))) + 32
        guard capacity > 0 else { return }
        var buffer = [Float](repeating: 0, count: capacity * outputChannels)
        let converted = buffer.withUnsafeMutableBytes { out -> Int32 in
            var outPointer: UnsafeMutablePointer<UInt8>? = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if let frame {
                // extended_data covers layouts with more than 8 channels, unlike data.
                let input = UnsafeMutableRawPointer(frame.pointer.pointee.extended_data).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
                return swr_convert(context, &outPointer, Int32(capacity), input, Int32(inCount))
            }
            return swr_convert(context, &outPointer, Int32(capacity), nil, 0)
        }
        if converted > 0 { samples.append(contentsOf: buffer.prefix(Int(converted) * outputChannels)) }
    }
}
