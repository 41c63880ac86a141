#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a clip's bytes come from: a local file (`FileSource`), bytes in memory (`MemorySource`),
/// and later a remote clip read with HTTP Range requests. The MP4 reader asks for a few ranges — the
/// top-level box headers, then the whole moov — and never for the media data, so a source that pays
/// per request costs a handful of requests per probe (a remote one should read ahead, e.g. the first
/// 64 KiB, and serve the box headers from that).
///
/// Reads are synchronous, like the file reads they stand for: the probe is short blocking work that
/// callers already run off Swift's cooperative pool (`MediaProbe.probeAll` uses a thread pool).
package protocol ByteSource {
    /// The total size in bytes (a file's st_size, a buffer's count, Content-Range's total).
    var size: Int64 { get }

    /// Exactly `count` bytes at `offset`.
    /// - Throws: `NotModelled` when the source has fewer bytes there or cannot read them.
    func read(at offset: Int64, count: Int) throws(NotModelled) -> [UInt8]
}

/// Owns one open file descriptor on a local file and reads byte ranges from it with pread, so the
/// probe seeks to the boxes it needs instead of reading the media data.
package final class FileSource: ByteSource {
    package let size: Int64
    private let descriptor: Int32

    /// Opens a non-empty regular file; anything else (missing, a directory, empty) is for the
    /// fallback to report.
    package init(path: String) throws(NotModelled) {
        // stat before open: opening a FIFO or device could block or have side effects.
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 else {
            throw NotModelled("not a non-empty regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NotModelled(String(cString: strerror(errno))) }
        // The size of what was opened, in case the path was replaced in between.
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 else {
            close(fd)
            throw NotModelled("not a non-empty regular file")
        }
        descriptor = fd
        size = Int64(status.st_size)
    }

    deinit { close(descriptor) }

    package func read(at offset: Int64, count: Int) throws(NotModelled) -> [UInt8] {
        try checkRange(offset, count)
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset + Int64(done)))
            }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw NotModelled("read failed") }
            done += n
        }
        return buffer
    }
}

/// Bytes already in memory: a downloaded head of a clip, a test's input, the fuzzer's.
package struct MemorySource: ByteSource {
    package let bytes: [UInt8]

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var size: Int64 { Int64(bytes.count) }

    package func read(at offset: Int64, count: Int) throws(NotModelled) -> [UInt8] {
        try checkRange(offset, count)
        return Array(bytes[Int(offset)..<(Int(offset) + count)])
    }
}

/// One top-level box: where it starts, its header length and its total size.
package struct TopLevelBox {
    package var type: String
    package var offset: Int64
    package var headerSize: Int64
    package var size: Int64
    var payloadOffset: Int64 { offset + headerSize }
    var payloadSize: Int { Int(size - headerSize) }
}

extension ByteSource {
    /// Refuses a range outside the source, before anything is allocated for it.
    package func checkRange(_ offset: Int64, _ count: Int) throws(NotModelled) {
        guard count >= 0, offset >= 0, offset <= size, Int64(count) <= size - offset else { throw NotModelled("read past the end") }
    }

    /// Walks the top-level boxes by their headers only. They must tile the source exactly: a box that
    /// runs past the end is a cut download, and bytes that are not a box are something FFmpeg judges.
    func topLevelBoxes() throws(NotModelled) -> [TopLevelBox] {
        var boxes: [TopLevelBox] = []
        var offset: Int64 = 0
        while offset < size {
            let box = try box(at: offset)
            // Every ordinary MP4 starts with ftyp; text pages, Matroska and the like stop here.
            guard offset > 0 || box.type == "ftyp" else { throw NotModelled("does not start with an ftyp box") }
            guard box.size <= size - offset else { throw NotModelled("file is cut inside its '\(box.type)' box") }
            boxes.append(box)
            offset += box.size
        }
        return boxes
    }

    /// The header of the box at `offset`: its type and sizes (a 64-bit size, or "to the end of the
    /// file"). The box may claim to run past the end; the caller decides what a cut means.
    package func box(at offset: Int64) throws(NotModelled) -> TopLevelBox {
        guard offset >= 0, size - offset >= 8 else { throw NotModelled("trailing bytes after the last box") }
        var reader = ByteReader(try read(at: offset, count: Int(min(16, size - offset)))[...])
        var boxSize = Int64(try reader.u32())
        let type = try reader.fourCC()
        guard type.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { throw NotModelled("not an ISO BMFF box") }
        var header: Int64 = 8
        if boxSize == 1 {
            let large = try reader.u64()
            guard large <= UInt64(Int64.max) else { throw NotModelled("box too large") }
            boxSize = Int64(large)
            header = 16
        } else if boxSize == 0 {
            boxSize = size - offset  // "extends to the end of the file"
        }
        guard boxSize >= header else { throw NotModelled("box '\(type)' has an invalid size") }
        return TopLevelBox(type: type, offset: offset, headerSize: header, size: boxSize)
    }
}
