import ClipKitCore
import Foundation

/// How a record was matched to its clip.
public enum MatchMethod: String, Sendable, Hashable, Codable {
    /// A manifest row named the clip.
    case manifest
    /// The task record sits beside the clip (`clip.task.json`) or names it (`outputFile`).
    case taskRecord
    /// The task id appears in the clip's file name.
    case fileName
    /// The clip has the file name of the task's output URL.
    case outputURL
}

/// The clips under a folder, indexed for matching records to them.
///
/// A task id is found in a file name when it equals the name's stem or one of its parts, split at
/// any character other than letters, digits and `-`, or a run of `-`-joined parts: so task
/// `0385dc79-5ff8-…` matches `0385dc79-5ff8-….mp4`, `shot3_0385dc79-5ff8-….mp4` and
/// `clip-0385dc79-5ff8-…-480p.mp4`. Lookups are by hash, so 100,000 records against 100,000 clips
/// stay fast.
public struct ClipIndex: Sendable {
    /// File extensions treated as clips.
    public static let clipExtensions: Set<String> = ["mp4", "mov", "m4v", "mkv", "webm", "avi"]

    public let root: String
    /// Every clip, in a stable order.
    public private(set) var clips: [String] = []
    /// Task records (`*.task.json`) found beside the clips.
    public private(set) var taskRecords: [String] = []
    private var byToken: [String: [Int]] = [:]
    private var byFileName: [String: [Int]] = [:]
    private var byStem: [String: Int] = [:]
    private var byPath: [String: Int] = [:]
    private var manifest: [String: ManifestEntry] = [:]

    /// Indexes the clips in `root`, searching subfolders and skipping hidden entries.
    /// - Throws: `RecordsUnreadable` if `root` is not a readable folder.
    public init(scanning root: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RecordsUnreadable(.notFound, path: root, reason: "no such folder")
        }
        // Enumerate the resolved folder (a symlinked --clips would list nothing) but keep paths under `root`.
        let resolved = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        guard let enumerator = FileManager.default.enumerator(atPath: resolved) else {
            throw RecordsUnreadable(.unreadable, path: root, reason: "cannot list the folder")
        }
        var clips: [String] = []
        var records: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            let path = (root as NSString).appendingPathComponent(relative)
            if name.hasSuffix(TaskRecord.fileSuffix) {
                records.append(path)
            } else if Self.clipExtensions.contains((name as NSString).pathExtension.lowercased()) {
                clips.append(path)
            }
        }
        self.init(root: root, clips: clips.sorted())
        taskRecords = records.sorted()
    }

    /// Indexes the given clip paths (for tests and pipelines that already know their files).
    public init(root: String, clips: [String]) {
        self.root = root
        for clip in clips { add(clip) }
    }

    private mutating func add(_ path: String) {
        let index = clips.count
        clips.append(path)
        byPath[Self.standard(path)] = index
        let name = (path as NSString).lastPathComponent
        byFileName[name.lowercased(), default: []].append(index)
        let stem = (name as NSString).deletingPathExtension
        byStem[Self.standard((path as NSString).deletingPathExtension)] = index
        for token in Self.tokens(of: stem) {
            byToken[token, default: []].append(index)
        }
    }

    /// Adds manifest rows; a later row for the same task replaces an earlier one.
    public mutating func addManifest(_ entries: [ManifestEntry]) {
        for entry in entries { manifest[entry.taskID.lowercased()] = entry }
    }

    /// The manifest row for a task.
    public func manifestEntry(for taskID: String) -> ManifestEntry? { manifest[taskID.lowercased()] }

    /// The clip for a task, trying in turn: the manifest, the task record's own clip, the task id
    /// in a file name, the output URL's file name. A manifest or task record path that does not
    /// exist is still returned (the clip is then reported missing, naming that path).
    public func match(
        taskID: String, outputURLs: [String] = [], clipHint: String? = nil
    ) -> (path: String, method: MatchMethod)? {
        if let entry = manifest[taskID.lowercased()], let path = entry.path {
            let resolved = path.hasPrefix("/") ? path : (root as NSString).appendingPathComponent(path)
            return (resolved, .manifest)
        }
        if let hint = clipHint {
            if let index = byPath[Self.standard(hint)] ?? byStem[Self.standard(hint)] {
                return (clips[index], .taskRecord)
            }
            if Self.clipExtensions.contains((hint as NSString).pathExtension.lowercased()) {
                return (hint, .taskRecord)
            }
        }
        if let hits = byToken[taskID.lowercased()], let first = hits.first {
            return (clips[first], .fileName)
        }
        for url in outputURLs {
            let name = Self.fileName(ofURL: url).lowercased()
            if !name.isEmpty, let hits = byFileName[name], hits.count == 1 { return (clips[hits[0]], .outputURL) }
        }
        return nil
    }

    /// The last path component of a URL, without its query: `…/abc.mp4?Expires=1` → `abc.mp4`.
    public static func fileName(ofURL url: String) -> String {
        var path = Substring(url)
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        return name.removingPercentEncoding ?? name
    }

    /// The stem, its parts, and every run of `-`-joined parts, lower-cased.
    static func tokens(of stem: String) -> Set<String> {
        let lower = stem.lowercased()
        var tokens: Set<String> = [lower]
        let words = lower.split { !($0.isLetter || $0.isNumber || $0 == "-") }
        for word in words {
            tokens.insert(String(word))
            let parts = word.split(separator: "-")
            guard parts.count > 1, parts.count <= 12 else { continue }
            for start in parts.indices {
                for end in start..<parts.count {
                    tokens.insert(parts[start...end].joined(separator: "-"))
                }
            }
        }
        return tokens
    }

    private static func standard(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
