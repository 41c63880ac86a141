import ArgumentParser
import ClipKitCore
import ClipKitMedia
import Foundation

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Report what clips really contain: tier, duration, exact frame count, fps, audio.",
        discussion: """
            Reads the container header only (no decoding) unless --deep is given. Frame counts leave out
            samples an edit list hides; fragmented MP4s are counted from packet headers.

            Examples:
              clipkit probe clip.mp4
              clipkit probe downloads/*.mp4 --format jsonl > probes.jsonl
              clipkit probe suspicious.mp4 --deep --format json

            Exit codes: 0 every input probed; 3 at least one input could not be read (its object has
            "error": {"code": notFound|empty|notMedia|truncated|noVideo|unreadable, "message": …}).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, jsonl
    }

    @Argument(help: "Clip files or URLs to probe.")
    var files: [String]

    @Option(help: "Output format: table, json (an array) or jsonl (one object per line).")
    var format: Format = .table

    @Flag(help: "Decode every frame and report the decoded count and decode errors.")
    var deep = false

    func run() async throws {
        let progress = files.count > 20 ? ProgressLine(label: "probed", total: files.count) : nil
        let infos = await MediaProbe.probeAll(files, deep: deep) { done, _ in progress?.update(done) }
        progress?.finish()
        switch format {
        case .json: Stdout.write(try JSONOutput.encode(infos, pretty: true) + "\n")
        case .jsonl: Stdout.write(try infos.map { try JSONOutput.encode($0) + "\n" }.joined())
        case .table: Stdout.write(ProbeTable.render(infos))
        }
        for info in infos where info.error != nil {
            Stderr.print("clipkit: \(info.error!.message) [\(info.error!.code.rawValue)]")
        }
        if infos.contains(where: { $0.error != nil }) { throw ExitStatus.inputUnreadable.exitCode }
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
