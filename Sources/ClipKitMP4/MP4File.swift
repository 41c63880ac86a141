#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one open file descriptor on a local file and reads byte ranges from it with pread, so the
/// probe seeks to the boxes it needs instead of reading the media data.
package final class MP4File {
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

    /// Exactly `count` bytes at `offset`, or `NotModelled` if the file has fewer.
    package func read(at offset: Int64, count: Int) throws(NotModelled) -> [UInt8] {
        guard count >= 0, offset >= 0, offset + Int64(count) <= size else { throw NotModelled("read past the end") }
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

    /// A top-level box: where it starts, its header length and its total size.
    package struct TopLevelBox {
        package var type: String
        package var offset: Int64
        var headerSize: Int64
        package var size: Int64
        var payloadOffset: Int64 { offset + headerSize }
        var payloadSize: Int { Int(size - headerSize) }
    }

    /// Walks the top-level boxes by their headers only. They must tile the file exactly: a box that
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
    /// file"). The box may claim to run past the end of the file; the caller decides what a cut means.
    package func box(at offset: Int64) throws(NotModelled) -> TopLevelBox {
        guard size - offset >= 8 else { throw NotModelled("trailing bytes after the last box") }
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
