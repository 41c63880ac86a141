import ClipKitConsole
import ClipKitCore
import ClipKitMedia
import ClipKitProviders
import ClipKitSandbox
import Foundation

/// What `generate` and `chain` need to talk to a provider: the HTTP transport, the credentials and base
/// URL, and for `--provider sandbox` the sandbox (found running, or started in this process). Made by
/// `run`, which always shuts the transport down and stops a sandbox it started, however the body ends.
struct ProviderSession {
    let kind: ProviderKind
    let transport: HTTPTransport
    let credentials: ProviderCredentials
    /// The sandbox's, or `--base-url` (nil: the credentials' or the provider's own).
    let baseURL: String?
    let isSandbox: Bool
    /// How often to poll: the sandbox answers in about a second, a real provider in minutes.
    var pollInterval: Duration { isSandbox ? .milliseconds(250) : .seconds(3) }

    /// A client for the session's provider.
    func client(webhookURL: String? = nil) throws -> any VideoProvider {
        try kind.client(credentials: credentials, transport: transport, media: FFmpegToolkit(), baseURL: baseURL,
                        webhookURL: webhookURL)
    }

    /// Sets a session up, runs `body` with it, and tears it down.
    /// - Parameter faults: for a sandbox started in this process (a running one keeps its own).
    /// - Throws: `ProviderError.configUnreadable` from the credentials, `SandboxError`, or what `body` throws.
    static func run<T>(_ options: ProviderOptions, provider: ProviderOptions.Provider, kind: ProviderKind,
                       faults: SandboxFaults? = nil, _ body: (ProviderSession) async throws -> T) async throws -> T {
        let transport = HTTPTransport()
        var sandbox: SandboxServer?
        do {
            let session: ProviderSession
            if provider == .sandbox {
                let (base, started) = try await sandboxBase(explicit: options.baseURL, faults: faults)
                sandbox = started
                session = ProviderSession(kind: kind, transport: transport,
                                          credentials: ProviderCredentials(apiKey: APIKey("sk-clipkit-sandbox"), baseURL: nil),
                                          baseURL: base, isSandbox: true)
            } else {
                let credentials = try ProviderCredentials.load(provider: kind.rawValue, configPath: options.config)
                session = ProviderSession(kind: kind, transport: transport, credentials: credentials,
                                          baseURL: options.baseURL, isSandbox: false)
            }
            let result = try await body(session)
            await shutdown(transport, sandbox)
            return result
        } catch {
            await shutdown(transport, sandbox)
            throw error
        }
    }

    /// The sandbox to use: an explicit URL, `$CLIPKIT_SANDBOX_URL`, one answering on 127.0.0.1:8089,
    /// or a new one in this process on a free port.
    private static func sandboxBase(explicit: String?, faults: SandboxFaults?) async throws -> (String, SandboxServer?) {
        if let explicit { return (explicit, nil) }
        let candidate = ProcessInfo.processInfo.environment["CLIPKIT_SANDBOX_URL"] ?? "http://127.0.0.1:8089"
        if faults == nil, await SandboxProbe.answers(candidate) { return (candidate, nil) }
        let server = try await SandboxServer.start(SandboxConfiguration(port: 0, faults: faults ?? SandboxFaults(queueMs: 300, runMs: 600)))
        Stderr.print("started an in-process sandbox on \(server.baseURL)")
        return (server.baseURL, server)
    }

    private static func shutdown(_ transport: HTTPTransport, _ sandbox: SandboxServer?) async {
        try? await transport.shutdown()
        await sandbox?.stop()
    }
}

/// Checks whether a sandbox answers at a base URL (GET /sandbox/stats).
enum SandboxProbe {
    static func answers(_ base: String) async -> Bool {
        let transport = HTTPTransport(connectTimeout: .milliseconds(300), readTimeout: .seconds(2), requestTimeout: .seconds(2))
        let reachable = await transport.isReachable(base + "/sandbox/stats")
        try? await transport.shutdown()
        return reachable
    }
}
