import ArgumentParser
import ClipKitConsole
import ClipKitLedger
import ClipKitMedia
import ClipKitProviders
import ClipKitServer
import ClipKitService
import Foundation
import Logging

/// `--data` and `--database`, shared by `serve` and `token`.
struct LedgerOptions: ParsableArguments {
    @Option(help: "Data directory: clips, frames and (by default) the SQLite ledger.")
    var data = "clipkit-data"

    @Option(help: "The ledger: a SQLite path or postgres://user:pass@host:port/db (default: DATA/ledger.sqlite).")
    var database: String?

    /// Where the ledger is; the data directory is made first so a new SQLite file can be created in it.
    func location() throws -> LedgerLocation {
        if database == nil {
            try? FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        }
        return try database.map(LedgerLocation.init(parsing:)) ?? .defaultLocation(dataDirectory: data)
    }
}

/// What a node needs to run task jobs, shared by `serve` and `worker`: where the providers are.
struct TaskServiceOptions: ParsableArguments {
    @Option(help: "A clipkit sandbox's URL: tasks may then name the provider \"sandbox\".")
    var sandbox: String?

    @Option(help: "The API nodes' public URL, for WaveSpeed's completion webhooks (PUBLIC/v1/webhooks/wavespeed).")
    var publicURL: String?

    @Option(help: "Provider config file with keys and base URLs (default ~/.config/clipkit/credentials.json).")
    var config: String?

    /// Opens the ledger and the providers' HTTP transport for a node's whole life, and closes both after
    /// `body`, whether it returns or throws.
    static func withNode(_ location: LedgerLocation, _ body: (any LedgerStore, HTTPTransport) async throws -> Void) async throws {
        let store = try await Ledger.open(location)
        let transport = HTTPTransport()
        do {
            try await body(store, transport)
        } catch {
            try? await transport.shutdown()
            try? await store.close()
            throw error
        }
        try await transport.shutdown()
        try await store.close()
    }

    /// The task service over `store` and `data`, its providers on `transport` (which the caller shuts down).
    func service(store: any LedgerStore, data: String, transport: HTTPTransport) -> TaskService {
        let providers = ProviderDirectory.standard(transport: transport, media: FFmpegToolkit(), configPath: config, sandboxURL: sandbox,
                                                   webhookURL: publicURL.map { $0 + "/v1/webhooks/wavespeed" })
        return TaskService(ledger: store, dataDirectory: data, providers: providers)
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run ClipKit as an HTTP service: clips probed, verified and framed, a ledger, webhooks, a dashboard.",
        discussion: """
            POST /v1/tasks generates clips: recorded, then submitted once, polled, downloaded, verified and framed
            by the server's job worker (provider keys from the environment or the config file, as clipkit
            generate reads them; --sandbox URL adds the provider name "sandbox" for a clipkit sandbox).

            Every /v1 route needs Authorization: Bearer TOKEN (make one with clipkit token create), except
            POST /v1/webhooks/wavespeed, which is checked with WAVESPEED_WEBHOOK_SECRET. GET / is a dashboard,
            GET /openapi.json the API's contract. SIGTERM or SIGINT stops taking requests and lets running
            jobs finish (30 s at most); the rest are resumed on the next start.

            Examples:
              clipkit token create --name pipeline
              clipkit serve
              clipkit serve --listen 0.0.0.0:8080 --database postgres://clipkit:secret@db:5432/clipkit
              clipkit serve --sandbox http://127.0.0.1:8089     # provider "sandbox": rehearse offline

            Exit codes: 0 stopped by a signal; 2 bad arguments; 3 the ledger cannot be opened or the address bound.
            """
    )

    @Option(help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:8080"

    @OptionGroup var ledger: LedgerOptions

    @Option(help: "Jobs run at once in this process; 0: none (an API node beside clipkit worker processes).")
    var workers = 4

    @Option(help: "The largest clip accepted, in MiB.")
    var maxClipMiB = 1024

    @OptionGroup var providers: TaskServiceOptions

    func validate() throws {
        guard Self.address(listen) != nil else { throw ValidationError("--listen must be HOST:PORT, not '\(listen)'") }
        guard workers >= 0 else { throw ValidationError("--workers must be 0 or more") }
        guard maxClipMiB >= 1 else { throw ValidationError("--max-clip-mi-b must be at least 1") }
    }

    static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        let (host, port) = Self.address(listen)!
        let location = try ledger.location()
        try await TaskServiceOptions.withNode(location) { store, transport in
            var logger = Logger(label: "clipkit.serve")
            logger.logLevel = .info
            let secret = ProcessInfo.processInfo.environment["WAVESPEED_WEBHOOK_SECRET"]
            let configuration = ServerConfiguration(
                host: host, port: port, dataDirectory: ledger.data, maxClipBytes: Int64(maxClipMiB) << 20, webhookSecret: secret,
                tasks: providers.service(store: store, data: ledger.data, transport: transport),
                worker: workers == 0 ? nil : JobWorker.Configuration(concurrency: workers))
            try await DataDirectoryMarker.check(ledger.data, ledger: store, mayMark: true)
            let server = try await ClipServer.start(configuration, store: store, handleSignals: true, logger: logger)
            Stderr.print("clipkit serve listening on \(server.baseURL) (ledger \(location), data \(ledger.data))")
            if secret == nil { Stderr.print("clipkit: WAVESPEED_WEBHOOK_SECRET is not set: POST /v1/webhooks/wavespeed answers 503") }
            try await server.wait()
        }
        Stderr.print("clipkit serve stopped")
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make, list and revoke the API tokens clipkit serve accepts.",
        discussion: """
            A token is printed once, on stdout, when it is made; the ledger keeps only its SHA-256.

            Examples:
              clipkit token create --name pipeline
              clipkit token list
              clipkit token revoke pipeline
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token and print it once.")
        @OptionGroup var ledger: LedgerOptions
        @Option(help: "What the token is for (one active token per name).")
        var name: String

        func run() async throws {
            let made = try await Ledger.withLedger(try ledger.location()) { store in
                try await store.transaction { try await $0.createToken(name: name) }
            }
            Stdout.write(made.secret + "\n")
            Stderr.print("made token \(made.token.name) (\(made.token.id)); it is shown only now")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names and times, never the tokens).")
        @OptionGroup var ledger: LedgerOptions

        func run() async throws {
            let tokens = try await Ledger.withLedger(try ledger.location()) { store in try await store.read { try await $0.tokens() } }
            let formatter = ISO8601DateFormatter()
            let time = { (date: Date?) in date.map { formatter.string(from: $0) } ?? "-" }
            Stdout.write(TextTable.render(
                header: ["NAME", "ID", "CREATED", "LAST USED", "REVOKED"],
                rows: tokens.map { [$0.name, $0.id, time($0.createdAt), time($0.lastUsedAt), time($0.revokedAt)] }))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke the active token with this name or id.")
        @OptionGroup var ledger: LedgerOptions
        @Argument(help: "The token's name or id.")
        var name: String

        func run() async throws {
            let revoked = try await Ledger.withLedger(try ledger.location()) { store in
                try await store.transaction { try await $0.revokeToken(name) }
            }
            guard revoked else { throw CLIFailure(.usage, "no active token named \(name)") }
            Stderr.print("revoked \(name)")
        }
    }
}
