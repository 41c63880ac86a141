import ArgumentParser
import ClipKitConsole
import ClipKitCore
import ClipKitMedia
import Foundation

struct ConcatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concat",
        abstract: "Join clips into one MP4 without stutter at the seams or colour drift down the chain.",
        discussion: """
            Compatible clips (same codec parameters, size and pixel format) are joined by copying their
            packets, with time bases rescaled onto one timeline. Anything that needs new pictures (dropped
            seam frames, colour matching, cross-fades, other sizes or rates) re-encodes with libx264 at a
            quality that keeps PSNR above 45 dB; the report says which and why. Audio is kept, trimmed to
            each clip's picture so every clip's sound starts with it, and silent clips get silence.

            Examples:
              clipkit concat a.mp4 b.mp4 c.mp4 -o story.mp4
              clipkit concat clip*.mp4 -o story.mp4 --seam drop --color-match first --report seams.json --contact-sheet seams.png
              clipkit concat portrait.mp4 landscape.mp4 -o out.mp4 --size 1280x720 --fps 30 --crossfade 8

            Exit codes: 0 written; 2 bad arguments, or the output exists without --force, or --reencode never
            when copying is impossible; 3 an input could not be read; 4 an output could not be written (in
            both cases no output is left behind).
            """
    )

    @Argument(help: "The clips, in order.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "The output MP4.")
    var output: String

    @Option(help: "keep, drop (a first frame that repeats the previous last frame) or drop=always.")
    var seam: ConcatOptions.SeamPolicy = .keep

    @Option(help: "off, or first: anchor every clip's colour to the first clip.")
    var colorMatch: ConcatOptions.ColorMatch = .off

    @Option(help: "auto, always or never.")
    var reencode: ConcatOptions.ReencodePolicy = .auto

    @Option(help: "Output size WxH (letterboxed, never stretched); default the first clip's.")
    var size: String?

    @Option(help: "Output frame rate, e.g. 30 or 30000/1001; default the first clip's.")
    var fps: String?

    @Option(help: "Frames to cross-fade at each seam.")
    var crossfade = 0

    @Option(help: "Similarity (dB) at which a seam's first frame counts as a repeat.")
    var seamThreshold = 35.0

    @Option(help: "Write the per-seam report as JSON here.")
    var report: String?

    @Option(help: "Write a PNG showing each seam's last frame before and first frame after.")
    var contactSheet: String?

    @Flag(help: "Overwrite existing output files.")
    var force = false

    func validate() throws {
        if inputs.count < 2 { throw ValidationError("give at least two clips to join") }
        if parsedSize == nil, let size { throw ValidationError("--size must look like 1280x720, not '\(size)'") }
        if let fps, Rational(fps).map({ !$0.isValid }) ?? true { throw ValidationError("--fps must be a positive rate like 30 or 30000/1001, not '\(fps)'") }
        if crossfade < 0 { throw ValidationError("--crossfade must be 0 or more") }
        if !output.lowercased().hasSuffix(".mp4") { throw ValidationError("--output must be an .mp4 file") }
        for path in [report, contactSheet].compactMap({ $0 }) where !force && FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path) already exists (use --force to overwrite)")
        }
    }

    private var parsedSize: FrameSize? {
        guard let size else { return nil }
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 && parts[0] > 1 && parts[1] > 1 ? FrameSize(width: parts[0], height: parts[1]) : nil
    }

    func run() async throws {
        let options = ConcatOptions(seam: seam, colorMatch: colorMatch, reencode: reencode, size: parsedSize,
                                    frameRate: fps.flatMap(Rational.init), crossfadeFrames: crossfade, seamThreshold: seamThreshold,
                                    measuresQuality: report != nil || contactSheet != nil)
        let line = ProgressLine(label: "frames", total: 0)
        let result = try Concatenator.concat(inputs, to: output, options: options, overwrite: force) { p in
            line.update(p.framesDone, total: p.framesTotal, detail: "clip \(p.clip)/\(p.clips)")
        }
        line.finish()
        let summary = result.report
        if let report {
            let data = try JSONOutput.encode(summary, pretty: true)
            try OutputFile(report, overwrite: force).write(Data((data + "\n").utf8))
        }
        if let contactSheet { try ContactSheet.render(result).write(to: contactSheet, overwrite: force) }
        let dropped = summary.seams.reduce(0) { $0 + $1.framesDropped }
        Stderr.print("wrote \(output): \(summary.frames) frames, \(String(format: "%.3f", summary.duration)) s, \(summary.mode.rawValue)"
            + (dropped > 0 ? ", \(dropped) repeated seam frame(s) dropped" : "")
            + (summary.psnrMinimum.map { String(format: ", PSNR ≥ %.1f dB", $0) } ?? ""))
    }
}

extension ConcatOptions.SeamPolicy: ExpressibleByArgument {}
extension ConcatOptions.ColorMatch: ExpressibleByArgument {}
extension ConcatOptions.ReencodePolicy: ExpressibleByArgument {}
