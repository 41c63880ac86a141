import ClipKitCore
import ClipKitMP4
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the first bytes and the top-level box layout of a local file say, before FFmpeg opens it.
/// Cheap (a few small reads) and catches what FFmpeg would only call "Invalid data": an empty file,
/// an XML error page saved as .mp4, an MP4 cut short, a fragmented MP4 whose header has no count.
struct FileSniff {
    var size: Int64
    /// True when the file is an ISO base media file (starts with an ftyp, moov, … box).
    var isISOBMFF = false
    var hasMoov = false
    /// Fragmented MP4: samples live in moof boxes, so the moov's sample tables do not count them all.
    var hasMoof = false
    /// A top-level box claims more bytes than the file has: the download was cut.
    var cutBox: String?
}

enum FileSniffer {
    /// Checks that `path` is a readable, non-empty regular file and looks at its first bytes.
    /// - Throws: `MediaProblem` (.notFound, .unreadable, .empty, .notMedia).
    static func sniff(_ path: String) throws(MediaProblem) -> FileSniff {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw MediaProblem(.notFound, "\(path): no such file") }
            throw MediaProblem(.unreadable, "\(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw MediaProblem(.unreadable, "\(path): is a directory, not a file") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw MediaProblem(.unreadable, "\(path): not a regular file") }
        guard info.st_size > 0 else { throw MediaProblem(.empty, "\(path): file is empty (0 bytes)") }
        let file: MP4File
        do { file = try MP4File(path: path) } catch { throw MediaProblem(.unreadable, "\(path): \(error)") }
        var sniff = FileSniff(size: file.size)

        let head = (try? file.read(at: 0, count: Int(min(512, file.size)))) ?? []
        if let page = textPageKind(head) {
            throw MediaProblem(.notMedia, "\(path): not a video but \(page) (\(sniff.size) bytes)\(errorSummary(head))")
        }
        scanBoxes(file, into: &sniff)
        return sniff
    }

    /// Walks the top-level boxes of an ISO BMFF file (size + type headers only), noting a cut.
    private static func scanBoxes(_ file: MP4File, into sniff: inout FileSniff) {
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
    static func textPageKind(_ bytes: [UInt8]) -> String? {
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
    static func errorSummary(_ bytes: [UInt8]) -> String {
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
