import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import Testing

/// schemathesis (from PyPI, installed by scripts/install-deps.sh into .tools/schemathesis) generates
/// requests from the served OpenAPI document, valid and not, and checks every answer against it: no 5xx,
/// no undocumented status, responses as the schema says, invalid input refused, unknown methods 405.
@Suite("the OpenAPI contract under schemathesis")
struct SchemathesisTests {
    @Test("clipkit serve answers schemathesis's generated requests as its OpenAPI document says")
    func contract() async throws {
        let st = Samples.root + "/.tools/schemathesis/bin/st"
        try #require(FileManager.default.isExecutableFile(atPath: st), "schemathesis is not installed: run scripts/install-deps.sh")
        let sandbox = try await SandboxServer.start(SandboxConfiguration(port: 0, faults: .fast))
        let data = NSTemporaryDirectory() + "clipkit-schemathesis-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let made = try await runProgram(builtBinary("clipkit-engine"), ["token", "create", "--name", "schemathesis", "--data", data])
        let token = String(decoding: made.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try await EngineProcess.serve(ledger: ["--data", data], sandbox: sandbox.baseURL,
                                                   environment: ["WAVESPEED_WEBHOOK_SECRET": "whsec_c2NoZW1hdGhlc2lzLXNlY3JldA=="])
        // positive_data_acceptance is left out: a request can match the schema and still be refused for
        // what no schema says (an unknown provider, a prompt and an image both missing, an empty clip).
        let result = try await offPool {
            try Tool.capture(st, ["run", server.baseURL + "/openapi.json", "-H", "Authorization: Bearer \(token)",
                                  "--max-examples", "25", "--seed", "1", "--request-timeout", "60",
                                  "--exclude-checks", "positive_data_acceptance", "--no-color"])
        }
        let exit = try await server.terminate()
        await sandbox.stop()
        #expect(result.status == 0, "schemathesis found problems:\n\(result.text.suffix(12_000))\n\(result.stderr.suffix(2000))")
        #expect(exit == 0, "clipkit serve survived and stopped gracefully: \(server.stderr.suffix(4000))")
        #expect(!result.text.contains(token) && !server.stderr.contains(token))
    }
}
