import ClipKitProviders
import ClipKitSandbox
import ClipKitTestSupport
import Foundation

/// A sandbox on a free loopback port, one HTTP transport and a scratch folder for one test: started,
/// handed to the body, and always stopped, whether the body returns or throws.
public struct SandboxSession: Sendable {
    /// The key the sandbox accepts; distinctive enough that finding it in any output or record is a leak.
    public static let apiKey = "sk-test-SECRET-7f3a9c41d2"

    public let sandbox: SandboxServer
    public let transport: HTTPTransport
    public let directory: String

    public static func with<T>(_ faults: SandboxFaults = .fast, scratch: String = "sandbox",
                               _ body: (SandboxSession) async throws -> T) async throws -> T {
        let sandbox = try await SandboxServer.start(SandboxConfiguration(port: 0, faults: faults, apiKey: apiKey))
        // Bounds for a busy 2-core CI machine (where a 20 s answer from the in-process sandbox was seen),
        // not measurements: a test that needs a timeout to fire sets its own.
        let transport = HTTPTransport(connectTimeout: .seconds(10), readTimeout: .seconds(120), requestTimeout: .seconds(120))
        let directory = Fixtures.shared.scratch(scratch)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let session = SandboxSession(sandbox: sandbox, transport: transport, directory: directory)
        do {
            let result = try await body(session)
            await session.stop()
            return result
        } catch {
            await session.stop()
            throw error
        }
    }

    private func stop() async {
        try? await transport.shutdown()
        await sandbox.stop()
    }

    /// A path in the session's scratch folder.
    public func path(_ name: String) -> String { directory + "/" + name }
}
