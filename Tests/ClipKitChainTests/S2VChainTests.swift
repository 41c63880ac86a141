import ClipKitAudit
import ClipKitChain
import ClipKitCore
import ClipKitMedia
import ClipKitProviders
import ClipKitSandbox
import ClipKitSandboxTestSupport
import ClipKitTestSupport
import Foundation
import Testing

@Suite("chain with an s2v segment")
struct S2VChainTests {
    /// A storyboard file in `directory`: an i2v segment, then the last frame talking with `voice.wav` (3.4 s).
    func talkingStoryboard(in directory: String) throws -> String {
        try FrameExtractor.extract(.first, from: Samples.path(Samples.t2v480p)).write(to: directory + "/first.png", overwrite: true)
        try FileManager.default.copyItem(atPath: try Fixtures.shared.voice(seconds: 3.4, format: .wav), toPath: directory + "/voice.wav")
        let path = directory + "/story.json"
        try Data("""
            {"defaults": {"provider": "dashscope", "model": "wan2.2-i2v-flash", "resolution": "480P", "seed": 5},
             "firstImage": "first.png",
             "segments": [{"prompt": "the camera drifts toward her"},
                          {"prompt": "she speaks", "audio": "voice.wav"}]}
            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("the previous last frame talks for as long as the voice; the voice survives the join; the audit prices it exactly")
    func talkingSegment() async throws {
        try await ChainHarness.with { h in
            let board = try Storyboard.load(try talkingStoryboard(in: h.directory))
            #expect(board.segments[1].audio == h.directory + "/voice.wav", "relative to the storyboard")
            let plan = ChainRunner.plan(storyboard: board, options: h.options())
            #expect(plan.map(\.mode) == [.i2v, .s2v])
            #expect(plan.map(\.model) == ["wan2.2-i2v-flash", "wan2.2-s2v"], "the shared model is not a talking model")
            #expect(plan[1].seconds == 3.4)
            #expect(plan.map { $0.estimate?.description } == ["0.50 CNY", "1.70 CNY"])

            let report = try await ChainRunner(storyboard: board, options: h.options()).run()
            #expect(await h.created() == 2)
            #expect(report.segments.allSatisfy { $0.attempts.count == 1 })
            let talk = try #require(report.segments[1].clip)
            #expect(try Oracle.decodedFrameCount(talk) == 102)
            // The talking clip starts on the previous clip's exact last frame: the seam drops the repeat.
            #expect(report.concat.seams.first?.framesDropped == 1)
            #expect(report.concat.frames == 150 + 101)
            // The join keeps the voice: sound through the second part, silence padded under the first.
            let output = h.options().output
            #expect(abs(try Oracle.decodedAudioSeconds(output) - Double(251) / 30) < 1.0 / 30)
            #expect(report.findings.isEmpty, "\(report.findings.map(\.message))")
            #expect(report.audit.totals.first?.billed == Money(Decimal(string: "2.20")!, "CNY"))
        }
    }

    @Test("a storyboard's s2v segment needs a portrait and an existing voice, and is not also kf2v")
    func invalidStoryboards() throws {
        let folder = Fixtures.shared.scratch("s2v-boards")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FrameExtractor.extract(.first, from: Samples.path(Samples.t2v480p)).write(to: folder + "/first.png", overwrite: true)
        func load(_ json: String) throws -> Storyboard {
            let path = folder + "/board-\(UUID().uuidString.prefix(6)).json"
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return try Storyboard.load(path)
        }
        #expect { try load(#"{"segments": [{"prompt": "hi", "audio": "v.wav"}]}"#) } throws: { error in
            (error as? StoryboardError)?.code == .invalid && "\(error)".contains("needs firstImage")
        }
        #expect { try load(#"{"firstImage": "first.png", "segments": [{"prompt": "hi", "audio": "none.wav"}]}"#) } throws: { error in
            (error as? StoryboardError)?.code == .audioNotFound && "\(error)".contains("none.wav")
        }
        #expect { try load(#"{"firstImage": "first.png", "segments": [{"prompt": "a"}, {"prompt": "b", "audio": "x.wav", "lastImage": "first.png"}]}"#) } throws: { error in
            (error as? StoryboardError)?.code == .invalid && "\(error)".contains("both lastImage")
        }
    }
}
