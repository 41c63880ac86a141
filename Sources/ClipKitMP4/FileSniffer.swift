import ClipKitCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the first bytes and the top-level box layout of a local file say, before FFmpeg opens it.
/// Cheap (a few small reads) and catches what FFmpeg would only call "Invalid data": an empty file,
/// an XML error page saved as .mp4, an MP4 cut short, a fragmented MP4 whose header has no count.
package struct FileSniff: Sendable, Equatable {
    package var size: Int64
    /// True when the file is an ISO base media file (starts with an ftyp, moov, … box).
    package var isISOBMFF = false
    package var hasMoov = false
    /// Fragmented MP4: samples live in moof boxes, so the moov's sample tables do not count them all.
    package var hasMoof = false
    /// A top-level box claims more bytes than the file has: the download was cut.
    package var cutBox: String?
}

/// Reads untrusted bytes: pure Swift, so the fuzzer (fuzz/) runs it without FFmpeg.
package enum FileSniffer {
    /// Checks that `path` is a readable, non-empty regular file and looks at its first bytes.
    /// - Throws: `MediaProblem` (.notFound, .unreadable, .empty, .notMedia).
    package static func sniff(_ path: String) throws(MediaProblem) -> FileSniff {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw MediaProblem(.notFound, "\(path): no such file") }
            throw MediaProblem(.unreadable, "\(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw MediaProblem(.unreadable, "\(path): is a directory, not a file") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw MediaProblem(.unreadable, "\(path): not a regular file") }
        guard info.st_size > 0 else { throw MediaProblem(.empty, "\(path): file is empty (0 bytes)") }
        let file: FileSource
        do { file = try FileSource(path: path) } catch { throw MediaProblem(.unreadable, "\(path): \(error)") }
        return try sniff(file, path: path)
    }

    /// What the first bytes and the top-level boxes of `source` say; `path` names it in messages.
    /// - Throws: `MediaProblem(.notMedia)` for a text page.
    package static func sniff(_ source: some ByteSource, path: String) throws(MediaProblem) -> FileSniff {
        var sniff = FileSniff(size: source.size)
        let head = (try? source.read(at: 0, count: Int(min(512, source.size)))) ?? []
        if let page = textPageKind(head) {
            throw MediaProblem(.notMedia, "\(path): not a video but \(page) (\(sniff.size) bytes)\(errorSummary(head))")
        }
        scanBoxes(source, into: &sniff)
        return sniff
    }

    /// Walks the top-level boxes of an ISO BMFF file (size + type headers only), noting a cut.
    private static func scanBoxes(_ file: some ByteSource, into sniff: inout FileSniff) {
        var offset: Int64 = 0
        while offset + 8 <= file.size, let box = try? file.box(at: offset) {
            if offset == 0 {
                guard ["ftyp", "moov", "mdat", "free", "wide", "skip", "styp"].contains(box.type) else { return }
                sniff.isISOBMFF = true
            }
            if box.type == "moov" { sniff.hasMoov = true }
            if box.type == "moof" { sniff.hasMoof = true }
            guard box.size <= file.size - offset else {
                sniff.cutBox = box.type
                return
            }
            offset += box.size
        }
    }

    /// If the bytes are a text document rather than media, what kind it is.
    package static func textPageKind(_ bytes: [UInt8]) -> String? {
        var text = String(decoding: bytes.prefix(256), as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let start = text.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }.lowercased()
        if start.hasPrefix("<?xml") || start.hasPrefix("<error") {
            return "an XML document (an error page from object storage: the download URL has likely expired or been denied)"
        }
        if start.hasPrefix("<!doctype html") || start.hasPrefix("<html") {
            return "an HTML page (the download URL returned a web page, not a video)"
        }
        if start.hasPrefix("{") || start.hasPrefix("[") { return "a JSON document (an API response, not a video)" }
        return nil
    }

    /// For an XML error page, its <Code> and <Message>, so the user sees e.g. "AccessDenied: Request has expired".
    package static func errorSummary(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
            else { return nil }
            return String(text[open.upperBound..<close.lowerBound])
        }
        let parts = [element("Code"), element("Message")].compactMap { $0 }
        return parts.isEmpty ? "" : ": " + parts.joined(separator: ": ")
    }
}
