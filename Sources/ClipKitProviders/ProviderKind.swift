import ClipKitCore
import Foundation

/// The protocols ClipKit speaks, by name, with their defaults.
public enum ProviderKind: String, Sendable, CaseIterable {
    case dashscope, wavespeed, modelverse

    /// The official API base.
    public var defaultBaseURL: String {
        switch self {
        case .dashscope: DashScopeClient.Region.beijing.rawValue
        case .wavespeed: WaveSpeedClient.defaultBaseURL
        case .modelverse: ModelVerseClient.defaultBaseURL
        }
    }

    /// A model to use when none is named: Wan 2.2 at 480P in each provider's naming.
    public func defaultModel(for mode: GenerationMode) -> String {
        switch (self, mode) {
        case (.dashscope, .t2v): "wan2.2-t2v-plus"
        case (.dashscope, .i2v): "wan2.2-i2v-flash"
        case (.dashscope, .kf2v): "wan2.2-kf2v-flash"
        case (.wavespeed, .t2v): "alibaba/wan-2.2/t2v-plus-480p"
        case (.wavespeed, .i2v): "alibaba/wan-2.2/i2v-plus-480p"
        case (.wavespeed, .kf2v): "wavespeed-ai/wan-2.2/image-to-video"
        case (.modelverse, _): "Wan-AI/Wan2.2-I2V"
        }
    }

    /// A client for this protocol.
    /// - Parameter baseURL: overrides the credentials' and the default base (e.g. a sandbox or router).
    /// - Throws: `ProviderError.missingAPIKey` when no key was found.
    /// - Parameter media: probes downloads and encodes images (`FFmpegToolkit()` from ClipKitMedia).
    public func client(credentials: ProviderCredentials, transport: HTTPTransport, media: any MediaToolkit,
                       baseURL: String? = nil, retry: RetryPolicy = RetryPolicy(),
                       webhookURL: String? = nil) throws -> any VideoProvider {
        guard let key = credentials.apiKey else {
            throw ProviderError.missingAPIKey(provider: rawValue, variable: ProviderCredentials.keyVariable(for: rawValue))
        }
        let base = baseURL ?? credentials.baseURL ?? defaultBaseURL
        switch self {
        case .dashscope: return DashScopeClient(baseURL: base, apiKey: key, transport: transport, media: media, retry: retry)
        case .wavespeed:
            return WaveSpeedClient(baseURL: base, apiKey: key, transport: transport, media: media, retry: retry,
                                   webhookURL: webhookURL)
        case .modelverse: return ModelVerseClient(baseURL: base, apiKey: key, transport: transport, media: media, retry: retry)
        }
    }
}
