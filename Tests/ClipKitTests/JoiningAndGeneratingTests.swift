import ClipKit
import ClipKitSandbox
import Foundation
import Testing

@Suite("joining and generating")
struct JoiningAndGeneratingTests {
    /// A moving checker pattern: neighbouring frames differ, as a camera move does.
    static func picture(_ t: Int) -> RGBImage {
        let width = 320, height = 192
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let on = ((x + 5 * t) / 12 + (y + 2 * t) / 12) % 2 == 0
                let i = (y * width + x) * 3
                pixels[i] = on ? 220 : 30
                pixels[i + 1] = UInt8((x + 3 * t) % 256)
                pixels[i + 2] = UInt8((y * 2) % 256)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Two clips written with `VideoWriter.write`; the second starts on the first one's last picture, as
    /// an i2v generation starts on the image it was given.
    static func clips(in folder: String) async throws -> [String] {
        let settings = VideoSettings(width: 320, height: 192, frameRate: Rational(30, 1))
        var paths: [String] = []
        for (k, frames) in [0..<30, 29..<59].enumerated() {
            let path = folder + "/segment-\(k + 1).mp4"
            try await VideoWriter.write(to: path, settings: settings) { writer in
                for t in frames { try writer.append(picture(t)) }
            }
            paths.append(path)
        }
        return paths
    }

    @Test("clips joined with progress in order, the repeated seam frame dropped, a contact sheet written")
    func join() async throws {
        let folder = try Repository.scratch("join")
        let clips = try await Self.clips(in: folder)
        let output = folder + "/story.mp4", sheet = folder + "/seams.png"
        // snippet concat
        let (updates, feed) = AsyncStream.makeStream(of: ConcatProgress.self)
        let join = Task {
            defer { feed.finish() }
            return try await Concatenator.concat(clips, to: output, options: ConcatOptions(seam: .drop, colorMatch: .first)) { progress in
                feed.yield(progress)  // from the media thread, between frames, in order
            }
        }
        for await progress in updates { show("joined \(progress.framesDone) of \(progress.framesTotal) frames") }
        let joined = try await join.value
        try await ContactSheet.render(joined).write(to: sheet)  // each seam: the last frame before, the first after
        show("dropped \(joined.report.seams.map(\.framesDropped)) seam frames")
        // end snippet
        #expect(joined.report.seams.map(\.framesDropped) == [1])
        #expect(await MediaProbe.probe(output).video?.frameCount == 59)
        #expect(Shown.shared.all.contains("joined 59 of 59 frames"))
        #expect(try await RGBImage.load(sheet).width > 0)
    }

    @Test("one generation against the sandbox, saved before polling and resumed from its record")
    func generate() async throws {
        let sandbox = try await SandboxServer.start(SandboxConfiguration(port: 0, faults: .fast))
        do {
            try await generate(sandbox)
            await sandbox.stop()
        } catch {
            await sandbox.stop()
            throw error
        }
    }

    func generate(_ sandbox: SandboxServer) async throws {
        let credentials = ProviderCredentials(apiKey: APIKey("sk-rehearsal"), baseURL: nil), baseURL = sandbox.baseURL
        let lastFrame = try await FrameExtractor.extract(.last, from: Repository.path("samples/wan22-t2v-480p-832x480-30fps.mp4"))
        let clip = try Repository.scratch("generate") + "/seg-02.mp4"
        // snippet generate
        let transport = HTTPTransport()
        let client = try ProviderKind.dashscope.client(credentials: credentials, transport: transport,
                                                       media: FFmpegToolkit(), baseURL: baseURL)  // probes, encodes images
        let runner = TaskRunner(provider: client, transport: transport)
        let request = GenerationRequest(model: "wan2.2-i2v-flash", prompt: "the camera pulls back",
                                        firstImage: .image(lastFrame), resolution: .p480)
        let result = try await runner.run(request, clipPath: clip,
            onSubmitted: { record in try saveDurably(record.taskID) },  // before polling starts
            events: { event in show(event) })                          // every state change
        // After a crash: no resubmission, only the saved record.
        let again = try await runner.resume(try RecordFile.read(result.recordPath), clipPath: clip)
        try await transport.shutdown()
        // end snippet
        #expect(result.media.tier == .p480 && result.media.video?.frameCount == 150)
        #expect(again.record.taskID == result.record.taskID)
        #expect(Shown.shared.all.contains("saved \(result.record.taskID)"))
        #expect(await sandbox.stats().created(.dashscope) == 1)
    }
}
