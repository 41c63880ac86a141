import Foundation

/// An API key. Its description is redacted, so printing a value that holds one, interpolating it
/// into a message or dumping it in a debugger never shows the secret; only request headers read it.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; read only to build an `Authorization` header.
    let secret: String

    public init(_ secret: String) {
        self.secret = secret.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public var description: String { "<redacted API key>" }
    public var debugDescription: String { description }
}

/// Where a provider is reached and with which key: from the environment (`DASHSCOPE_API_KEY`,
/// `WAVESPEED_API_KEY`, `MODELVERSE_API_KEY`, and `…_BASE_URL`) or a JSON config file.
///
/// The config file (`$CLIPKIT_CONFIG`, else `~/.config/clipkit/providers.json`) looks like
/// `{"dashscope": {"api_key": "sk-…", "base_url": "https://dashscope-intl.aliyuncs.com"}, "wavespeed": {…}}`.
/// An environment variable wins over the file.
public struct ProviderCredentials: Sendable {
    public var apiKey: APIKey?
    public var baseURL: String?

    public init(apiKey: APIKey?, baseURL: String?) {
        self.apiKey = apiKey
        self.baseURL = baseURL
    }

    /// The environment variable holding `provider`'s key, e.g. `DASHSCOPE_API_KEY`.
    public static func keyVariable(for provider: String) -> String { provider.uppercased() + "_API_KEY" }

    /// The default config file: `$CLIPKIT_CONFIG` or `~/.config/clipkit/providers.json`.
    public static func defaultConfigPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["CLIPKIT_CONFIG"], !path.isEmpty { return path }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.config/clipkit/providers.json"
    }

    /// Looks up `provider`'s key and base URL.
    /// - Parameter configPath: a config file to read; nil reads the default one if it exists.
    /// - Throws: `ProviderError.configUnreadable` when a named config file cannot be read or parsed.
    public static func load(provider: String, configPath: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProviderCredentials {
        var credentials = ProviderCredentials(apiKey: nil, baseURL: nil)
        let path = configPath ?? defaultConfigPath(environment: environment)
        if FileManager.default.fileExists(atPath: path) {
            let section: [String: String]
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                let all = try JSONDecoder().decode([String: [String: String]].self, from: data)
                section = all[provider] ?? [:]
            } catch {
                // Never echo the file's content: it holds keys.
                throw ProviderError.configUnreadable(provider: provider, path: path, "is not a JSON object of "
                    + "{\"provider\": {\"api_key\": …, \"base_url\": …}}")
            }
            credentials.apiKey = (section["api_key"] ?? section["apiKey"]).map(APIKey.init)
            credentials.baseURL = section["base_url"] ?? section["baseURL"]
        } else if configPath != nil {
            throw ProviderError.configUnreadable(provider: provider, path: path, "does not exist")
        }
        if let key = environment[keyVariable(for: provider)], !key.isEmpty { credentials.apiKey = APIKey(key) }
        if let base = environment[provider.uppercased() + "_BASE_URL"], !base.isEmpty { credentials.baseURL = base }
        if credentials.apiKey?.secret.isEmpty == true { credentials.apiKey = nil }
        return credentials
    }
}
