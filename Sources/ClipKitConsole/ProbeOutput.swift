import ClipKitCore
import Foundation

/// How `clipkit probe` prints its results. One renderer for both binaries, so the fast path and the
/// engine cannot drift apart in the JSON contract.
public enum ProbeFormat: String, CaseIterable, Sendable {
    /// A human table.
    case table
    /// One JSON array.
    case json
    /// One JSON object per line.
    case jsonl

    /// The text for stdout.
    public func render(_ infos: [MediaInfo]) throws -> String {
        switch self {
        case .json: try JSONOutput.encode(infos, pretty: true) + "\n"
        case .jsonl: try infos.map { try JSONOutput.encode($0) + "\n" }.joined()
        case .table: ProbeTable.render(infos)
        }
    }
}

/// The human table for `probe --format table`.
enum ProbeTable {
    static func render(_ infos: [MediaInfo]) -> String {
        let header = ["FILE", "TIER", "SIZE", "CODEC", "FPS", "FRAMES", "DURATION", "ROT", "AUDIO", "ERROR"]
        let rows = infos.map { info -> [String] in
            let v = info.video
            let size = v.map { "\($0.width)x\($0.height)" } ?? "-"
            let fps = v?.frameRate.map { $0.denominator == 1 ? "\($0.numerator)" : String(format: "%.3f", $0.doubleValue) } ?? "-"
            let audio = info.audio.map { "\($0.codec) \($0.sampleRate / 1000)k \($0.channels)ch" } ?? "none"
            return [
                info.path, info.tier?.rawValue ?? "-", size, v?.codec ?? "-", fps, v?.frameCount.map(String.init) ?? "-",
                v?.duration.map { String(format: "%.3fs", $0) } ?? "-", v.map { "\($0.rotation)" } ?? "-",
                info.video == nil && info.error != nil ? "-" : audio, info.error?.code.rawValue ?? "",
            ]
        }
        return TextTable.render(header: header, rows: rows)
    }
}
