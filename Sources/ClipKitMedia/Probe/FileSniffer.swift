import ClipKitCore
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
    /// Moov before the first mdat ("faststart").
    var moovFirst = false
    /// A top-level box claims more bytes than the file has: the download was cut.
    var cutBox: String?
    fileprivate var hasMdatBefore = false
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
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw MediaProblem(.unreadable, "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var sniff = FileSniff(size: Int64(info.st_size))
        guard sniff.size > 0 else { throw MediaProblem(.empty, "\(path): file is empty (0 bytes)") }

        let head = read(fd, offset: 0, count: 512)
        if let page = textPageKind(head) {
            throw MediaProblem(.notMedia, "\(path): not a video but \(page) (\(sniff.size) bytes)\(errorSummary(head))")
        }
        scanBoxes(fd, into: &sniff)
        return sniff
    }

    /// Walks the top-level boxes of an ISO BMFF file (size + type headers only).
    private static func scanBoxes(_ fd: Int32, into sniff: inout FileSniff) {
        var offset: Int64 = 0
        var first = true
        while offset + 8 <= sniff.size {
            let header = read(fd, offset: offset, count: 16)
            guard header.count >= 8 else { return }
            let type = String(decoding: header[4..<8], as: UTF8.self)
            guard type.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return }
            if first {
                guard ["ftyp", "moov", "mdat", "free", "wide", "skip", "styp"].contains(type) else { return }
                sniff.isISOBMFF = true
                first = false
            }
            var size = Int64(header[0..<4].reduce(0) { $0 << 8 | UInt32($1) })
            if size == 1, header.count >= 16 {
                size = Int64(bitPattern: header[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
            } else if size == 0 {
                size = sniff.size - offset  // "extends to the end of the file"
            }
            guard size >= 8 else { return }
            switch type {
            case "moov":
                sniff.hasMoov = true
                if !sniff.hasMdatBefore { sniff.moovFirst = true }
            case "mdat": sniff.hasMdatBefore = true
            case "moof": sniff.hasMoof = true
            default: break
            }
            if offset + size > sniff.size {
                sniff.cutBox = type
                return
            }
            offset += size
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

    private static func read(_ fd: Int32, offset: Int64, count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        return n > 0 ? Array(buffer.prefix(n)) : []
    }
}
