import ClipKitCore
import ClipKitLedger
import Foundation

/// The directory of clips, frames and inputs that every node on one ledger shares (on several machines, a
/// shared mount). A marker file in it, `.clipkit-ledger`, names the ledger it belongs to
/// (`storeIdentity()`); a node checks it at start, so that a worker whose mount is missing, or that was
/// given another deployment's directory, refuses to start instead of writing clips the API nodes never see.
public enum DataDirectoryMarker {
    public static let markerName = ".clipkit-ledger"

    /// Checks that `path` can be written and is `ledger`'s. An API node (`mayMark`) marks a directory that
    /// has no marker yet, making it if need be; a worker needs the marker already there.
    /// - Throws: `DataDirectoryError`; `LedgerError` when the ledger cannot be read.
    public static func check(_ path: String, ledger: any LedgerStore, mayMark: Bool) async throws {
        let identity = try await ledger.transaction { try await $0.storeIdentity() }
        let files = FileManager.default
        if mayMark { try? files.createDirectory(atPath: path, withIntermediateDirectories: true) }
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataDirectoryError(.unmarked, "the data directory \(path) does not exist (is the shared mount there?)")
        }
        let probe = path + "/.clipkit-write-check-\(ProcessInfo.processInfo.processIdentifier)"
        guard files.createFile(atPath: probe, contents: Data()) else {
            throw DataDirectoryError(.unwritable, "cannot write in the data directory \(path)")
        }
        try? files.removeItem(atPath: probe)

        let marker = path + "/" + markerName
        if let text = try? String(contentsOfFile: marker, encoding: .utf8) {
            let found = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard found == identity else {
                throw DataDirectoryError(.foreign, "the data directory \(path) belongs to ledger \(found), not to \(ledger.location) "
                    + "(\(identity)): give the directory this ledger's nodes share")
            }
            return
        }
        guard mayMark else {
            throw DataDirectoryError(.unmarked, "the data directory \(path) has no \(markerName) marker for ledger \(identity): "
                + "give the directory the API nodes use (a shared mount on several machines), or start clipkit serve on it first")
        }
        // Written whole under a temporary name, then renamed: a node never reads half a marker.
        try OutputFile(marker, overwrite: true).write(Data((identity + "\n").utf8))
    }
}

/// A data directory a node cannot use.
public struct DataDirectoryError: ClipKitError, Equatable {
    public enum Code: String, Sendable, Hashable, Codable {
        /// It cannot be written.
        case unwritable
        /// It is missing, or carries no marker where one is needed.
        case unmarked
        /// Its marker names another ledger.
        case foreign
    }

    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
