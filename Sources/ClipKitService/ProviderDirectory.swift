import ClipKitCore
import ClipKitProviders
import Foundation

/// How the service reaches each provider a request may name: one client per name, built on demand from
/// credentials and a base URL, over one shared HTTP transport. Keys live only inside the clients
/// (`APIKey` is redacted), never in a request, a record or a job.
public struct ProviderDirectory: Sendable {
    /// Makes the client for a provider name; throws for a name it does not serve.
    public typealias Factory = @Sendable (_ name: String) throws -> any VideoProvider

    public let transport: HTTPTransport
    private let factory: Factory

    /// A directory over any factory (tests wrap clients with it).
    public init(transport: HTTPTransport, factory: @escaping Factory) {
        self.transport = transport
        self.factory = factory
    }

    /// Where one provider name is reached.
    public struct Endpoint: Sendable {
        /// The protocol it speaks.
        public var kind: ProviderKind
        public var credentials: ProviderCredentials
        /// Overrides the credentials' and the protocol's default base (a router, a sandbox).
        public var baseURL: String?
        /// WaveSpeed: where its signed completion webhook is sent.
        public var webhookURL: String?

        public init(kind: ProviderKind, credentials: ProviderCredentials, baseURL: String? = nil, webhookURL: String? = nil) {
            self.kind = kind
            self.credentials = credentials
            self.baseURL = baseURL
            self.webhookURL = webhookURL
        }
    }

    /// A directory of fixed endpoints by name (`dashscope`, `sandbox`, …).
    public init(transport: HTTPTransport, media: any MediaToolkit, endpoints: [String: Endpoint]) {
        self.init(transport: transport) { name in
            guard let endpoint = endpoints[name.lowercased()] else {
                throw TaskServiceError(.unknownProvider, "no provider named '\(name)' is configured "
                    + "(known: \(endpoints.keys.sorted().joined(separator: ", ")))")
            }
            return try endpoint.kind.client(credentials: endpoint.credentials, transport: transport, media: media,
                                            baseURL: endpoint.baseURL, webhookURL: endpoint.webhookURL)
        }
    }

    /// The three providers with the keys and base URLs of the environment or the credentials file
    /// (`ProviderCredentials.load`), read when a request first names one; and `sandbox` (DashScope's
    /// protocol) when `sandboxURL` is given.
    public static func standard(transport: HTTPTransport, media: any MediaToolkit, configPath: String? = nil,
                                sandboxURL: String? = nil, webhookURL: String? = nil) -> ProviderDirectory {
        ProviderDirectory(transport: transport) { name in
            let lower = name.lowercased()
            if lower == "sandbox", let sandboxURL {
                return try ProviderKind.dashscope.client(
                    credentials: ProviderCredentials(apiKey: APIKey("sk-clipkit-sandbox"), baseURL: nil), transport: transport,
                    media: media, baseURL: sandboxURL)
            }
            guard let kind = ProviderKind(rawValue: lower) else {
                throw TaskServiceError(.unknownProvider, "unknown provider '\(name)' (dashscope, wavespeed, modelverse"
                    + (sandboxURL == nil ? ")" : " or sandbox)"))
            }
            let credentials = try ProviderCredentials.load(provider: kind.rawValue, configPath: configPath)
            return try kind.client(credentials: credentials, transport: transport, media: media,
                                   webhookURL: kind == .wavespeed ? webhookURL : nil)
        }
    }

    /// The client for `name`.
    /// - Throws: `TaskServiceError.unknownProvider`, `ProviderError.missingAPIKey`, `.configUnreadable`.
    public func client(_ name: String) throws -> any VideoProvider { try factory(name) }
}
