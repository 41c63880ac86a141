import CFFmpeg
import ClipKitCore

/// A failed FFmpeg call: which function, on what (a file, a stream), and FFmpeg's own reason.
///
/// Programs switch on `code`; callers inside the media layer match known codes with
/// `catch FFmpegError.endOfFile` or `catch FFmpegError.tryAgain`.
public struct FFmpegError: ClipKitError {
    /// The kinds of failure a caller may act on; everything else is `failed` (the message says more).
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        case endOfFile, tryAgain, invalidData, decoderNotFound, encoderNotFound, outOfMemory, invalidArgument
        case failed
    }

    /// The negative AVERROR value the call returned.
    public let averror: Int32
    /// The C function that failed, e.g. "avcodec_open2".
    public let function: String
    /// What it failed on, e.g. the file path or "stream 0 of clip.mp4".
    public let target: String

    /// - Parameter code: the AVERROR value (kept as `averror`).
    public init(code: Int32, function: String = "", target: String = "") {
        self.averror = code
        self.function = function
        self.target = target
    }

    public var code: Code {
        switch averror {
        case cffmpeg_averror_eof(): .endOfFile
        case cffmpeg_averror(EAGAIN): .tryAgain
        case cffmpeg_averror_invaliddata(): .invalidData
        case cffmpeg_averror_decoder_not_found(): .decoderNotFound
        case cffmpeg_averror(ENOSYS): .encoderNotFound
        case cffmpeg_averror(ENOMEM): .outOfMemory
        case cffmpeg_averror(EINVAL): .invalidArgument
        default: .failed
        }
    }

    /// FFmpeg's text for the code (av_strerror).
    public var reason: String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(averror, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        let what = function.isEmpty ? "FFmpeg" : function
        return target.isEmpty ? "\(what): \(reason)" : "\(what) failed on \(target): \(reason)"
    }

    public static let endOfFile = FFmpegError(code: cffmpeg_averror_eof())
    public static let tryAgain = FFmpegError(code: cffmpeg_averror(EAGAIN))
    public static let invalidData = FFmpegError(code: cffmpeg_averror_invaliddata())

    /// Matches any error carrying the same code, whatever function or file it names.
    public static func ~= (pattern: FFmpegError, error: any Error) -> Bool {
        (error as? FFmpegError)?.averror == pattern.averror
    }
}

/// Turns a negative FFmpeg return code into an `FFmpegError` naming the call and its target.
/// - Returns: the non-negative result unchanged.
@discardableResult
func check(_ result: Int32, _ function: StaticString, _ target: @autoclosure () -> String) throws(FFmpegError) -> Int32 {
    guard result >= 0 else { throw FFmpegError(code: result, function: "\(function)", target: target()) }
    return result
}

/// For calls that allocate: running out of memory stays fatal, as for every allocation in Swift;
/// any other failure (a size or format the call refuses) is an `FFmpegError` for the caller to report.
@discardableResult
func checkAllocation(_ result: Int32, _ function: StaticString, _ target: @autoclosure () -> String) throws(FFmpegError) -> Int32 {
    if result == cffmpeg_averror(ENOMEM) { fatalError("\(function): out of memory") }
    return try check(result, function, target())
}

/// FFmpeg logs to stderr by default; ClipKit reports errors itself, so FFmpeg is quiet unless asked.
enum FFmpegLog {
    private static let quietOnce: Void = { av_log_set_level(AV_LOG_QUIET) }()
    static func configure() { _ = quietOnce }
}
