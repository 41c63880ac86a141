import ArgumentParser
import ClipKitProviders

/// The flags that choose and reach a provider, shared by `generate` and `chain`.
struct ProviderOptions: ParsableArguments {
    enum Provider: String, ExpressibleByArgument, CaseIterable {
        case dashscope, wavespeed, modelverse, sandbox
    }

    @Option(help: "dashscope, wavespeed, modelverse, or sandbox (offline, no key).")
    var provider: Provider?

    @Option(name: .customLong("protocol"), help: "With --provider sandbox: the protocol it speaks (dashscope, wavespeed, modelverse).")
    var protocolName: String?

    @Option(help: "API base URL: a region, a router prefix (…/alibailian) or a running sandbox.")
    var baseURL: String?

    @Option(help: "Provider config file with keys and base URLs (default ~/.config/clipkit/credentials.json).")
    var config: String?

    func validate() throws {
        if let name = protocolName, ProviderKind(rawValue: name) == nil {
            throw ValidationError("--protocol must be dashscope, wavespeed or modelverse, not '\(name)'")
        }
    }

    /// The protocol spoken: the provider's own, or for the sandbox `--protocol`, else `fallback`.
    func kind(for provider: Provider, fallback: String? = nil) -> ProviderKind? {
        ProviderKind(rawValue: provider == .sandbox ? (protocolName ?? fallback ?? "dashscope") : provider.rawValue)
    }
}
