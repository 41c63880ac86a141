import ArgumentParser
import ClipKitConsole
import ClipKitCore
import ClipKitMedia

struct FrameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frame",
        abstract: "Extract one exact frame (by default the last displayed one) as PNG or JPEG.",
        discussion: """
            The last frame is the picture a full decode shows last, after edit lists, with B-frames and
            when audio outlasts the video. Only the last group of pictures is decoded. The image is
            upright (the display rotation is applied) unless --no-autorotate is given.

            Examples:
              clipkit frame clip.mp4 -o last.png
              clipkit frame clip.mp4 --first -o first.jpg
              clipkit frame clip.mp4 --index 74 -o mid.png --force
              clipkit frame clip.mp4 --time 2.5 -o at-2.5s.png

            Exit codes: 0 written; 2 bad arguments, output exists without --force, or no such frame;
            3 the clip could not be read; 4 the image could not be written (nothing is left behind).
            """
    )

    @Argument(help: "The clip to read.")
    var file: String

    @Flag(help: "Which frame (default: --last).")
    var which: Which = .last

    @Option(help: "The Nth displayed frame, counting from 0.")
    var index: Int?

    @Option(help: "The frame shown at T seconds from the start.")
    var time: Double?

    @Option(name: .shortAndLong, help: "Output image: .png or .jpg/.jpeg.")
    var output: String

    @Flag(help: "Overwrite the output if it exists.")
    var force = false

    @Flag(help: "Keep the stored orientation instead of applying the display rotation.")
    var noAutorotate = false

    enum Which: String, EnumerableFlag {
        case last, first
    }

    func validate() throws {
        if index != nil, time != nil { throw ValidationError("give either --index or --time, not both") }
        if (index != nil || time != nil), which == .first { throw ValidationError("--first cannot be combined with --index or --time") }
        if ImageFormat(path: output) == nil { throw ValidationError("--output must end in .png, .jpg or .jpeg, not '\(output)'") }
    }

    func run() async throws {
        let position: FramePosition = index.map { .index($0) } ?? time.map { .time($0) } ?? (which == .first ? .first : .last)
        let image: RGBImage
        do {
            image = try FrameExtractor.extract(position, from: file, autorotate: !noAutorotate)
        } catch let problem as MediaProblem {
            // Probe's form: the message names the file, the code follows.
            throw CLIFailure(.inputUnreadable, "\(problem.message) [\(problem.code.rawValue)]")
        }
        try image.write(to: output, overwrite: force)
        Stderr.print("wrote \(position) of \(file) (\(image.width)x\(image.height)) to \(output)")
    }
}
