import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An output written under a temporary name beside its destination and renamed into place only when
/// complete, so a crash or an error never leaves a half-written file under the real name.
public struct OutputFile: Sendable {
    /// Where the finished file goes.
    public let destination: String
    /// Where it is written meanwhile (same directory, so the rename is atomic).
    public let temporaryPath: String

    /// - Parameter overwrite: allow replacing an existing file.
    /// - Throws: `OutputFileError.exists` when the destination exists and `overwrite` is false;
    ///   `.unwritable` when it is a directory or its directory is missing.
    public init(_ destination: String, overwrite: Bool) throws {
        var status = stat()
        if stat(destination, &status) == 0 {
            if status.st_mode & S_IFMT == S_IFDIR {
                throw OutputFileError.unwritable(destination, call: "stat", reason: String(cString: strerror(EISDIR)))
            }
            if !overwrite { throw OutputFileError.exists(destination) }
        }
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        guard stat(directory, &status) == 0 else {
            throw OutputFileError.unwritable(destination, call: "stat \(directory)", reason: Self.lastError)
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw OutputFileError.unwritable(destination, call: "stat \(directory)", reason: String(cString: strerror(ENOTDIR)))
        }
        self.destination = destination
        // Keep the extension last: muxers and encoders pick the format from it.
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.deletingPathExtension().lastPathComponent).partial-\(getpid()).\(url.pathExtension)").path
    }

    /// Creates the temporary file and removes it again, so that an output that cannot be written
    /// (a read-only place, /proc, no permission, a full disk) is refused before any work is done.
    /// - Throws: `OutputFileError.unwritable` naming the destination and the failed call.
    public func checkWritable() throws {
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutputFileError.unwritable(destination, call: "open", reason: Self.lastError) }
        close(descriptor)
        discard()
    }

    /// Renames the finished temporary file into place.
    public func commit() throws {
        guard rename(temporaryPath, destination) == 0 else {
            let reason = Self.lastError
            discard()
            throw OutputFileError.unwritable(destination, call: "rename", reason: reason)
        }
    }

    /// Removes the temporary file after a failure.
    public func discard() {
        unlink(temporaryPath)
    }

    /// Writes `data` to the temporary file, then renames it into place.
    /// - Throws: `OutputFileError.unwritable` naming the call that failed (open, write, close, rename).
    public func write(_ data: Data) throws {
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutputFileError.unwritable(destination, call: "open", reason: Self.lastError) }
        var failed: String?
        data.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return failed = "write" }
                done += n
            }
        }
        let reason = Self.lastError
        // close reports a write the kernel could not complete (NFS, quota): it counts as failed too.
        if close(descriptor) != 0, failed == nil { failed = "close" }
        if let failed {
            discard()
            throw OutputFileError.unwritable(destination, call: failed, reason: failed == "close" ? Self.lastError : reason)
        }
        try commit()
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}

/// Why an output was not written; every case names the destination.
public enum OutputFileError: ClipKitError, Equatable {
    /// What went wrong, for a program to switch on.
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The destination exists and overwriting was not allowed.
        case exists
        /// The place cannot take the file (missing directory, a directory, read-only, full).
        case unwritable
    }

    /// The destination exists and overwriting was not allowed.
    case exists(String)
    /// The place cannot take the file: `call` is what failed (stat of its directory, open, write,
    /// rename, avio_open, …) and `reason` the system's word for why.
    case unwritable(String, call: String, reason: String)

    public var code: Code {
        switch self {
        case .exists: .exists
        case .unwritable: .unwritable
        }
    }

    public var description: String {
        switch self {
        case .exists(let path): "\(path) already exists"
        case .unwritable(let path, let call, let reason): "cannot write \(path): \(call): \(reason)"
        }
    }

    /// The destination it is about.
    public var path: String {
        switch self {
        case .exists(let path), .unwritable(let path, _, _): path
        }
    }
}
