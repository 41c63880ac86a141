import Foundation

/// An output written under a temporary name beside its destination and renamed into place only when
/// complete, so a crash or an error never leaves a half-written file under the real name.
public struct OutputFile: Sendable {
    /// Where the finished file goes.
    public let destination: String
    /// Where it is written meanwhile (same directory, so the rename is atomic).
    public let temporaryPath: String

    /// - Parameter overwrite: allow replacing an existing file.
    /// - Throws: `OutputFileError.exists` when the destination exists and `overwrite` is false.
    public init(_ destination: String, overwrite: Bool) throws {
        if !overwrite, FileManager.default.fileExists(atPath: destination) {
            throw OutputFileError.exists(destination)
        }
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OutputFileError.noDirectory(destination)
        }
        self.destination = destination
        // Keep the extension last: muxers and encoders pick the format from it.
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.deletingPathExtension().lastPathComponent).partial-\(getpid()).\(url.pathExtension)").path
    }

    /// Renames the finished temporary file into place.
    public func commit() throws {
        guard rename(temporaryPath, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw OutputFileError.rename(destination, reason)
        }
    }

    /// Removes the temporary file after a failure.
    public func discard() {
        unlink(temporaryPath)
    }

    /// Writes `data` to the temporary file, then renames it into place.
    public func write(_ data: Data) throws {
        do {
            try data.write(to: URL(fileURLWithPath: temporaryPath))
        } catch {
            discard()
            throw OutputFileError.write(destination, error.localizedDescription)
        }
        try commit()
    }
}

/// Why an output could not be written; every case names the destination.
public enum OutputFileError: ClipKitError, Equatable {
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        case exists, noDirectory, write, rename
    }

    /// The destination exists and overwriting was not allowed.
    case exists(String)
    case noDirectory(String)
    case write(String, String)
    case rename(String, String)

    public var code: Code {
        switch self {
        case .exists: .exists
        case .noDirectory: .noDirectory
        case .write: .write
        case .rename: .rename
        }
    }

    public var description: String {
        switch self {
        case .exists(let path): "\(path) already exists"
        case .noDirectory(let path): "cannot write \(path): its directory does not exist"
        case .write(let path, let reason): "cannot write \(path): \(reason)"
        case .rename(let path, let reason): "cannot move the finished file to \(path): \(reason)"
        }
    }
}
