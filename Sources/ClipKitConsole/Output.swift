import Foundation

/// Machine-readable output on stdout.
public enum Stdout {
    public static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// Messages, warnings and progress on stderr.
public enum Stderr {
    public static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// The JSON every command prints: sorted keys, so outputs diff cleanly.
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Left-aligned columns separated by two spaces.
public enum TextTable {
    public static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// A progress line on stderr ("probed 120/500, ETA 3s"), redrawn in place and throttled.
public final class ProgressLine: @unchecked Sendable {
    private let label: String
    private var total: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let lock = NSLock()
    private let interactive = isatty(2) != 0

    public init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    /// Redraws "label done/total, ETA", at most five times a second. `total` may change as work is discovered.
    public func update(_ done: Int, total newTotal: Int? = nil, detail: String? = nil) {
        lock.withLock {
            if let newTotal { total = newTotal }
            let now = Date()
            // A terminal redraws in place; a log gets a line a second at most.
            guard done == total || now.timeIntervalSince(lastDraw) > (interactive ? 0.2 : 1) else { return }
            lastDraw = now
            let elapsed = now.timeIntervalSince(start)
            let eta = done > 0 ? elapsed / Double(done) * Double(max(0, total - done)) : 0
            let line = "\(label) \(done)/\(total)" + (detail.map { ", \($0)" } ?? "") + ", ETA \(Int(eta.rounded()))s"
            FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
        }
    }

    public func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
