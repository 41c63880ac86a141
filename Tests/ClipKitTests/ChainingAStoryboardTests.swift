import ClipKit
import ClipKitSandbox
import Foundation
import Testing

@Suite("chaining a storyboard")
struct ChainingAStoryboardTests {
    /// Two i2v segments from the first sample's opening frame.
    static func storyboard(in folder: String) async throws -> Storyboard {
        let first = folder + "/first.png"
        try await FrameExtractor.extract(.first, from: Repository.path("samples/wan22-t2v-480p-832x480-30fps.mp4")).write(to: first)
        return Storyboard(defaults: .init(provider: "dashscope", model: "wan2.2-i2v-flash", resolution: "480P", seed: 5),
                          firstImage: first,
                          segments: [.init(prompt: "the camera drifts towards the hills"), .init(prompt: "and on over the lake")])
    }

    @Test("a storyboard rehearsed against the sandbox: two generations joined, paid and audited once each")
    func rehearsal() async throws {
        let folder = try Repository.scratch("chain")
        let storyboard = try await Self.storyboard(in: folder)
        let work = folder + "/story.work", output = folder + "/story.mp4"
        // snippet chain
        let sandbox = try await SandboxServer.start(SandboxConfiguration(port: 0, faults: .fast))  // offline, no key
        let report = try await HTTPTransport.with { transport in
            var options = ChainOptions(provider: .dashscope, credentials: ProviderCredentials(apiKey: APIKey("sk-rehearsal"), baseURL: nil),
                                       baseURL: sandbox.baseURL, transport: transport, workDirectory: work, output: output,
                                       budget: Money(parsing: "2", currency: "CNY"))
            options.runner.pollInterval = .milliseconds(50)  // the sandbox answers in a second, not minutes
            let chain = Task { try await ChainRunner(storyboard: storyboard, options: options).run { event in show(event) } }
            return try await chain.value  // chain.cancel() stops it at the next poll or frame; run again to resume
        }
        await sandbox.stop()
        show("\(report.output): \(report.concat.frames) frames, \(report.audit.errors) audit errors")
        // end snippet
        #expect(report.segments.map(\.attempts.count) == [1, 1])
        #expect(report.concat.frames == 150 + 149, "the repeated seam frame is dropped")
        #expect(await MediaProbe.probe(output).video?.frameCount == 299)
        #expect(report.audit.totals.map(\.billed) == [Money(Decimal(string: "1.00")!, "CNY")])
        #expect(report.audit.errors == 0)
        #expect(Shown.shared.all.contains("\(output): 299 frames, 0 audit errors"))
    }
}
