// snippet verify
import ClipKit

/// A delivered clip is used only if it is what was billed; its exact last frame starts the next generation.
func acceptDelivery(_ clip: String, billed: ClipRequirements) async throws -> RGBImage {
    let info = await MediaProbe.probe(clip)   // never throws: a bad file comes back with info.error set
    let failures = billed.failures(of: info)  // tier, length (the as-billed rule), frame rate, audio
    guard failures.isEmpty else { throw NotAsBilled(clip: clip, failures: failures) }
    return try await FrameExtractor.extract(.last, from: clip)  // what a full decode shows last, upright
}

struct NotAsBilled: Error {
    var clip: String
    var failures: [ClipRequirements.Failure]
}
// end snippet

import Foundation
import Testing

@Suite("verifying a clip")
struct VerifyingAClipTests {
    @Test("a clip as billed gives its exact last frame; one that is not is refused, property by property")
    func verify() async throws {
        let clip = Repository.path("samples/wan22-t2v-480p-832x480-30fps.mp4")
        let nextFirstFrame = try Repository.scratch("verify") + "/next-first-frame.png"
        // snippet verify-call
        let billed = ClipRequirements(tier: .p480, duration: 5, fps: 30, audio: false)
        let next = try await acceptDelivery(clip, billed: billed)
        try await next.write(to: nextFirstFrame, overwrite: true)  // PNG or JPEG, by extension
        // end snippet
        #expect(next.width == 832 && next.height == 480)
        #expect(try await RGBImage.load(nextFirstFrame) == next)

        // The 720P sample, billed as 1080P for 6 s with no audio: three failed properties.
        let wrong = Repository.path("samples/wan25-720p-1280x720-24fps-audio.mp4")
        let rejection = await #expect(throws: NotAsBilled.self) {
            try await acceptDelivery(wrong, billed: ClipRequirements(tier: .p1080, duration: 6, audio: false))
        }
        #expect(rejection?.failures.map(\.property) == [.tier, .duration, .audio])
    }

    @Test("errors carry a code to switch on and a message naming the file; cancelling stops the work")
    func errorsAndCancellation() async throws {
        let downloaded = Repository.path("samples/wan22-t2v-480p-832x480-30fps.mp4")
        let folder = try Repository.scratch("errors")
        let output = folder + "/story.mp4"
        // snippet errors
        do {
            _ = try await Concatenator.concat([downloaded, "missing.mp4"], to: output)
        } catch let error as ConcatError where error.code == .inputUnreadable {
            show("download \(error.path ?? "it") again: \(error)")  // names the clip and what failed
        } catch let error as any ClipKitError {
            show("\(error.codeName): \(error)")                  // every library error has both
        }
        // end snippet
        #expect(Shown.shared.all.contains { $0.hasPrefix("download missing.mp4 again: cannot read missing.mp4") })
        #expect(!FileManager.default.fileExists(atPath: output))

        let clips = [downloaded, downloaded]
        // snippet cancel
        let join = Task { try await Concatenator.concat(clips, to: output) }
        join.cancel()  // e.g. the job was withdrawn
        do {
            _ = try await join.value
        } catch is CancellationError {
            // stopped between frames; nothing is left at `output`, not even a partial file
        }
        // end snippet
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }
}
