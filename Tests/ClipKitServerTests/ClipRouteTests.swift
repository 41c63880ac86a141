import ClipKitCore
import ClipKitFileServer
import ClipKitLedger
import ClipKitMedia
import ClipKitTestSupport
import Foundation
import Testing

@Suite("POST /v1/clips and its reads")
struct ClipRouteTests {
    @Test("the same Idempotency-Key twice stores one clip; with another body it is 409", arguments: LedgerBackend.allCases)
    func idempotencyKey(_ backend: LedgerBackend) async throws {
        let clip = Samples.path(Samples.t2v480p)
        try await TestServer.with(backend) { server in
            let first = try await server.upload(clip, query: "?tier=480P&duration=5", key: "order-17")
            #expect(first.status == 201, "\(first.text)")
            let id = try #require(first.json["id"] as? String)
            let second = try await server.upload(clip, query: "?tier=480P&duration=5", key: "order-17")
            #expect(second.status == 200)
            #expect(second.json["id"] as? String == id)
            #expect(try await server.clipCount() == 1)
            #expect(server.files("clips") == ["\(id).mp4"])
            #expect(server.files("frames") == ["\(id)-first.png", "\(id)-last.png"])
            // The same key for another request is refused, and stores nothing.
            let other = try await server.upload(Samples.path(Samples.portrait16fps), key: "order-17")
            #expect(other.status == 409)
            #expect(other.errorCode == "idempotencyKeyReused")
            let sameClipOtherRequirements = try await server.upload(clip, query: "?tier=720P", key: "order-17")
            #expect(sameClipOtherRequirements.status == 409)
            #expect(try await server.clipCount() == 1)
            #expect(server.files("clips").count == 1)
            // Without a key, each post is a clip of its own.
            #expect(try await server.upload(clip).status == 201)
            #expect(try await server.clipCount() == 2)
            #expect(server.files("tmp").isEmpty)
        }
    }

    @Test("an empty body, an expired link's XML page and a truncated MP4 are 422 with the probe's code; nothing is stored",
          arguments: LedgerBackend.allCases)
    func badUploads(_ backend: LedgerBackend) async throws {
        let inputs = try await offPool { try Fixtures.shared.badInputs() }
        let wanted: [MediaProblem.Code] = [.empty, .notMedia, .truncated, .noVideo]
        let chosen = inputs.filter { wanted.contains($0.code) && !$0.path.hasSuffix("page.mp4") && !$0.path.hasSuffix("noise.mp4") }
        #expect(chosen.count >= 4)
        try await TestServer.with(backend) { server in
            for input in chosen {
                let answer = try await server.upload(input.path, key: "bad-\(input.code)-\(input.path.hashValue)")
                #expect(answer.status == 422, "\(input.path): \(answer.text)")
                #expect(answer.errorCode == input.code.rawValue, "\(input.path): \(answer.text)")
                let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(!message.contains(server.data), "the message names the server's temporary file: \(message)")
            }
            #expect(try await server.clipCount() == 0)
            #expect(server.files("clips").isEmpty)
            #expect(server.files("frames").isEmpty)
            #expect(server.files("tmp").isEmpty)
            // A key used by a refused upload is free again: nothing was stored under it.
            let good = try await server.upload(Samples.path(Samples.t2v480p), key: "bad-\(chosen[0].code)-\(chosen[0].path.hashValue)")
            #expect(good.status == 201)
        }
    }

    @Test("the probe in the answer is what clipkit probe prints for the stored file; GET answers the same clip")
    func probeMatchesCLI() async throws {
        try await TestServer.with(.sqlite) { server in
            let answer = try await server.upload(Samples.path(Samples.audio720p), query: "?tier=720P&duration=5&audio=yes")
            #expect(answer.status == 201, "\(answer.text)")
            let id = try #require(answer.json["id"] as? String)
            let (status, printed) = try await runProgram(builtBinary("clipkit"), ["probe", "--format", "json", "clips/\(id).mp4"],
                                                         directory: server.data)
            #expect(status == 0)
            let cli = try #require(try JSONSerialization.jsonObject(with: printed) as? [[String: Any]]).first
            let probe = try #require(answer.json["probe"] as? [String: Any])
            #expect(NSDictionary(dictionary: probe).isEqual(to: try #require(cli)), "server \(probe)\nclipkit \(String(describing: cli))")
            let verification = try #require(answer.json["verification"] as? [String: Any])
            #expect(verification["passed"] as? Bool == true, "\(verification)")

            let read = try await server.send(.GET, "/v1/clips/\(id)")
            #expect(read.status == 200)
            #expect(NSDictionary(dictionary: read.json).isEqual(to: answer.json))
            #expect(try await server.send(.GET, "/v1/clips/clip_nosuchclip").status == 404)
            #expect(try await server.send(.GET, "/v1/clips/\(id)/frames/middle.png").status == 404)
        }
    }

    @Test("POST /v1/probe answers what clipkit probe prints, uploaded or by URL (a few Range requests), and stores nothing",
          arguments: LedgerBackend.allCases)
    func probeOnly(_ backend: LedgerBackend) async throws {
        let clip = Samples.path(Samples.audio720p)
        let files = try await ClipFileServer.start(files: ["clip.mp4": clip])
        let inputs = try await offPool { try Fixtures.shared.badInputs() }
        try await TestServer.with(backend) { server in
            let (status, printed) = try await runProgram(builtBinary("clipkit"), ["probe", "--format", "json", clip])
            #expect(status == 0)
            var cli = try #require(try JSONSerialization.jsonObject(with: printed) as? [[String: Any]]).first ?? [:]

            let uploaded = try await server.send(.POST, "/v1/probe?tier=720P&duration=5&audio=yes", headers: [("Content-Type", "video/mp4")],
                                                 body: try Data(contentsOf: URL(fileURLWithPath: clip)))
            #expect(uploaded.status == 200, "\(uploaded.text)")
            cli["path"] = "upload"
            #expect(NSDictionary(dictionary: uploaded.json["probe"] as? [String: Any] ?? [:]).isEqual(to: cli), "\(uploaded.text)")
            #expect((uploaded.json["verification"] as? [String: Any])?["passed"] as? Bool == true, "\(uploaded.text)")

            let url = files.url("clip.mp4", query: "X-Amz-Signature=secret")
            let byURL = try await server.send(.POST, "/v1/probe", headers: [("Content-Type", "application/json")],
                                              body: Data(#"{"url": "\#(url)", "requirements": {"tier": "480P"}}"#.utf8))
            #expect(byURL.status == 200, "\(byURL.text)")
            cli["path"] = files.url("clip.mp4")
            #expect(NSDictionary(dictionary: byURL.json["probe"] as? [String: Any] ?? [:]).isEqual(to: cli), "\(byURL.text)")
            let failures = (byURL.json["verification"] as? [String: Any])?["failures"] as? [[String: Any]] ?? []
            #expect(failures.compactMap { $0["property"] as? String } == ["tier"])
            #expect(!byURL.text.contains("secret"))
            let served = await files.counts(), size = try Data(contentsOf: URL(fileURLWithPath: clip)).count
            #expect(served.requests <= 3 && served.bytes < size / 2, "\(served)")

            await files.setFault(.expired, for: "clip.mp4")
            let expired = try await server.send(.POST, "/v1/probe", headers: [("Content-Type", "application/json")],
                                                body: Data(#"{"url": "\#(url)"}"#.utf8))
            #expect(expired.status == 422 && expired.errorCode == "notMedia" && expired.text.contains("expired"), "\(expired.text)")
            #expect(!expired.text.contains("secret"), "\(expired.text)")

            let page = try #require(inputs.first { $0.code == .notMedia })
            let refused = try await server.send(.POST, "/v1/probe", headers: [("Content-Type", "video/mp4")],
                                                body: try Data(contentsOf: URL(fileURLWithPath: page.path)))
            #expect(refused.status == 422 && refused.errorCode == "notMedia", "\(refused.text)")
            #expect(!refused.text.contains(server.data))
            #expect(try await server.clipCount() == 0)
            #expect(server.files("clips").isEmpty && server.files("frames").isEmpty && server.files("tmp").isEmpty)
        }
        await files.stop()
    }

    @Test("requirements a clip does not meet are reported, and the clip is still stored")
    func failedVerification() async throws {
        try await TestServer.with(.sqlite) { server in
            let answer = try await server.upload(Samples.path(Samples.t2v480p), query: "?tier=720P&duration=5&fps=30&audio=yes")
            #expect(answer.status == 201, "\(answer.text)")
            let verification = try #require(answer.json["verification"] as? [String: Any])
            #expect(verification["passed"] as? Bool == false)
            let failed = (verification["failures"] as? [[String: Any]] ?? []).compactMap { $0["property"] as? String }
            #expect(failed.sorted() == ["audio", "tier"])
            #expect(try await server.upload(Samples.path(Samples.t2v480p), query: "?tier=4K").status == 400)
        }
    }

    @Test("numbers no clip can have are 400, not a crash or a record no JSON can hold (found by schemathesis)")
    func extremeRequirements() async throws {
        try await TestServer.with(.sqlite) { server in
            for query in ["?duration=5.947177319292053e%2B307", "?fps=2.4717028446056887e%2B307", "?toleranceFrames=1e%2B308",
                          "?duration=0", "?duration=5e-324", "?fps=-1", "?fps=1.4e-45", "?duration=nan"] {
                let answer = try await server.upload(Samples.path(Samples.t2v480p), query: query)
                #expect(answer.status == 400 && answer.errorCode == "badRequest", "\(query): \(answer.text)")
            }
            // A still image is no clip (FFmpeg reads a PNG as a one-frame video).
            let png = try await RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 200, count: 192)).encoded(as: .png)
            let image = try await server.send(.POST, "/v1/clips", headers: [("Content-Type", "application/octet-stream")], body: png)
            #expect(image.status == 422 && image.errorCode == "noVideo", "\(image.text)")
            #expect(server.files("clips").isEmpty)
            let page = try await server.send(.GET, "/")
            #expect(page.status == 200, "the dashboard reads every stored record: \(page.text.prefix(500))")
            #expect(try await server.send(.GET, "/healthz").status == 200)
        }
    }

    @Test("the last-frame PNG is pixel for pixel what clipkit frame --last writes", arguments: [Samples.t2v480p, Samples.portrait16fps])
    func lastFrameMatchesCLI(_ sample: String) async throws {
        try await TestServer.with(.sqlite) { server in
            let answer = try await server.upload(Samples.path(sample))
            #expect(answer.status == 201)
            let id = try #require(answer.json["id"] as? String)
            let frames = try #require(answer.json["frames"] as? [String: String])
            #expect(frames["last"] == "/v1/clips/\(id)/frames/last.png")
            let png = try await server.send(.GET, frames["last"]!)
            #expect(png.status == 200)
            #expect(png.headers.first(name: "content-type") == "image/png")
            let served = NSTemporaryDirectory() + "served-\(id).png", cli = NSTemporaryDirectory() + "cli-\(id).png"
            defer { for path in [served, cli] { try? FileManager.default.removeItem(atPath: path) } }
            try png.body.write(to: URL(fileURLWithPath: served))
            let (status, _) = try await runProgram(builtBinary("clipkit"), ["frame", Samples.path(sample), "--last", "-o", cli])
            #expect(status == 0)
            let a = try await RGBImage.load(served), b = try await RGBImage.load(cli)
            #expect(a.width == b.width && a.height == b.height)
            #expect(a.pixels == b.pixels)
            // Frame N is decoded on request and kept.
            let tenth = try await server.send(.GET, "/v1/clips/\(id)/frames/10.png")
            #expect(tenth.status == 200)
            #expect(server.files("frames").contains("\(id)-10.png"))
            #expect(try await server.send(.GET, "/v1/clips/\(id)/frames/100000.png").status == 404)
        }
    }

    @Test("the README's Python script posts a clip with a token")
    func pythonScript() async throws {
        let readme = try String(contentsOfFile: Samples.root + "/README.md", encoding: .utf8)
        let script = try #require(Self.pythonBlock(in: readme), "README.md has no ```python block posting to /v1/clips")
        #expect(script.split(separator: "\n").count <= 10)
        let file = NSTemporaryDirectory() + "post-clip-\(UUID().uuidString.prefix(8)).py"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await TestServer.with(.sqlite) { server in
            let environment = ["CLIPKIT_URL": server.server.baseURL, "CLIPKIT_TOKEN": server.token,
                               "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
            let (status, output) = try await runProgram("/usr/bin/env", ["python3", file, Samples.path(Samples.t2v480p)],
                                                        environment: environment)
            #expect(status == 0)
            let printed = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
            let id = try #require(printed["id"] as? String)
            #expect(try await server.store.read { try await $0.clip(id) } != nil)
            #expect((printed["probe"] as? [String: Any])?["tier"] as? String == "480P")
        }
    }

    static func pythonBlock(in markdown: String) -> String? {
        let parts = markdown.components(separatedBy: "```python\n")
        for part in parts.dropFirst() {
            let block = part.components(separatedBy: "```").first ?? ""
            if block.contains("/v1/clips") { return block }
        }
        return nil
    }
}
