import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

@Suite("clipkit chain")
struct ChainCLITests {
    @Test("--dry-run prints every segment's mode, model and estimate, and the total")
    func dryRun() throws {
        let result = try clipkit("chain", Samples.root + "/samples/storyboard.json", "-o", Fixtures.shared.scratch("plan.mp4"), "--dry-run")
        #expect(result.status == 0)
        let lines = result.text.split(separator: "\n")
        #expect(lines.filter { $0.contains("wan2.2-i2v-flash") && $0.contains("0.50 CNY") }.count == 3)
        #expect(lines.contains { $0.contains("kf2v") && $0.contains("wan2.2-kf2v-flash") })
        #expect(result.text.contains("total (dashscope): 2.00 CNY"))
        let tight = try clipkit("chain", Samples.root + "/samples/storyboard.json", "-o", Fixtures.shared.scratch("plan.mp4"),
                                "--dry-run", "--budget", "1.5 CNY")
        #expect(tight.text.contains("budget 1.50 CNY (over budget)"))
    }

    @Test("bad storyboards and arguments: exit 2; a missing image: exit 3")
    func errors() throws {
        let directory = Fixtures.shared.scratch("boards")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let broken = directory + "/broken.json", missing = directory + "/missing.json"
        try Data(#"{"segments": [{"prompt": "a"},"#.utf8).write(to: URL(fileURLWithPath: broken))
        try Data(#"{"firstImage": "nowhere.png", "segments": [{"prompt": "a"}]}"#.utf8).write(to: URL(fileURLWithPath: missing))
        let out = directory + "/out.mp4"
        #expect(try clipkit("chain", broken, "-o", out, "--dry-run").status == 2)
        #expect(try clipkit("chain", missing, "-o", out, "--dry-run").status == 3)
        #expect(try clipkit("chain", Samples.root + "/samples/storyboard.json", "-o", out, "--budget", "lots").status == 2)
        #expect(try clipkit("chain", Samples.root + "/samples/storyboard.json", "-o", directory + "/out.mov").status == 2)
    }

    @Test("refused by the budget (exit 1), then resumed without paying twice, then nothing left to do")
    func budgetThenResume() throws {
        let directory = Fixtures.shared.scratch("story")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FrameExtractor.extract(.first, from: Samples.path(Samples.t2v480p)).write(to: directory + "/first.png")
        let board = directory + "/story.yaml"
        try Data("""
            defaults: {provider: dashscope, model: wan2.2-i2v-flash, resolution: 480P}
            firstImage: first.png
            segments:
              - prompt: the camera drifts right
              - prompt: and keeps drifting
            """.utf8).write(to: URL(fileURLWithPath: board))
        let out = directory + "/long.mp4"

        let refused = try clipkit("chain", board, "--provider", "sandbox", "-o", out, "--budget", "0.6")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("segment 2 (0.50 CNY) would bring the spend to 1.00 CNY, over the budget of 0.60 CNY"))
        #expect(!FileManager.default.fileExists(atPath: out))

        let resumed = try clipkit("chain", board, "--provider", "sandbox", "-o", out)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("segment 1/2: done in an earlier run"))
        #expect(resumed.stderr.components(separatedBy: " submitted").count - 1 == 1, "only segment 2 is submitted")
        let summary = try #require(try JSONSerialization.jsonObject(with: resumed.stdout) as? [String: Any])
        #expect(summary["frames"] as? Int == 299)
        #expect(MediaProbe.probe(out).video?.frameCount == 299)

        let again = try clipkit("chain", board, "--provider", "sandbox", "-o", out)
        #expect(again.status == 0)
        #expect(!again.stderr.contains(" submitted"))
    }
}
