import ClipKit
import Foundation

/// Where the repository's files are, found from this source file.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// A new, empty folder for one test.
    static func scratch(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "clipkit-library-\(getpid())/\(UUID().uuidString.prefix(8))-\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// What the snippets `show` (a pipeline's log or progress display), kept for the tests to check.
final class Shown: @unchecked Sendable {
    static let shared = Shown()
    private var lines: [String] = []
    private let lock = NSLock()

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// The snippets' stand-in for a pipeline's own log.
func show(_ item: Any) { Shown.shared.append(String(describing: item)) }

/// The snippets' stand-in for a pipeline's own durable store.
func saveDurably(_ taskID: String) throws { Shown.shared.append("saved \(taskID)") }
