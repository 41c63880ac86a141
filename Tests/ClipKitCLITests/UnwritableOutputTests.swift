import ClipKitTestSupport
import Foundation
import Testing

/// Every command that writes a file, pointed at a place that cannot take it: one line naming the path
/// and the failed call, exit 4, nothing left behind, nothing submitted. Run under
/// `swift test --sanitize=address`, the binaries are instrumented too, so a double free fails here.
@Suite("unwritable outputs")
struct UnwritableOutputTests {
    enum Place: String, CaseIterable, CustomStringConvertible {
        /// A directory no file can be created in (procfs).
        case proc
        /// A directory given as the output.
        case directory
        /// An output whose parent directory does not exist.
        case missingParent

        var description: String { rawValue }

        /// A fresh destination of this kind, and the call the error must name.
        func destination(extension ext: String) throws -> (path: String, call: String) {
            switch self {
            case .proc:
                return ("/proc/clipkit-\(UUID().uuidString.prefix(8)).\(ext)", "open: ")
            case .directory:
                // In a folder of its own: other tests' files come and go in the shared scratch folder.
                let path = Fixtures.shared.scratch("unwritable") + "/folder.\(ext)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                return (path, "stat: Is a directory")
            case .missingParent:
                let parent = Fixtures.shared.scratch("missing")
                return (parent + "/out.\(ext)", "stat \(parent): No such file or directory")
            }
        }
    }

    enum Command: String, CaseIterable, CustomStringConvertible {
        case concat, frame, generate, chain, audit
        var description: String { rawValue }

        func arguments(output: String) -> [String] {
            let clip = Samples.path(Samples.t2v480p)
            switch self {
            case .concat: return ["concat", clip, clip, "-o", output]
            case .frame: return ["frame", clip, "-o", output]
            case .generate: return ["generate", "--provider", "sandbox", "--prompt", "a lighthouse", "-o", output]
            case .chain: return ["chain", Samples.root + "/samples/storyboard.json", "--provider", "sandbox", "-o", output]
            case .audit: return ["audit", "--records", Samples.root + "/samples/records", "--clips", Samples.root + "/samples",
                                 "--format", "json", "-o", output]
            }
        }
    }

    @Test("exit 4 with one line naming the path and the failed call; nothing written or submitted",
          arguments: Command.allCases, Place.allCases)
    func refused(_ command: Command, _ place: Place) throws {
        let (output, call) = try place.destination(extension: command == .frame ? "png" : command == .audit ? "json" : "mp4")
        let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
        let before = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []

        let result = try clipkit(command.arguments(output: output))
        #expect(result.status == 4, "\(result.stderr)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("clipkit:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.hasPrefix("clipkit: cannot write \(output): \(call)") == true, "\(result.stderr)")
        #expect(!result.stderr.contains("AddressSanitizer") && !result.stderr.contains("Fatal error"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!result.stderr.contains("submitted"), "nothing is paid for when the clip could not be kept")

        // Nothing new beside it: no partial file, no task record, no work directory; no parent made.
        // (procfs lists processes, which come and go; nothing can be created there anyway.)
        if place != .proc {
            let after = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            #expect(Set(after) == Set(before), "left behind: \(Set(after).subtracting(before))")
        }
        if place == .missingParent { #expect(!FileManager.default.fileExists(atPath: parent)) }
        if place == .directory {
            #expect(try FileManager.default.contentsOfDirectory(atPath: output).isEmpty, "the directory is untouched")
        }
    }
}

/// `clipkit` with an argument array.
func clipkit(_ arguments: [String]) throws -> Tool.Result {
    try Tool.capture(builtBinary("clipkit"), arguments)
}
