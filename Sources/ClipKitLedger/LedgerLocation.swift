import Foundation

/// Which database engine holds a ledger.
public enum LedgerBackend: String, Sendable, Hashable, Codable, CaseIterable {
    case sqlite, postgres
}

/// Where a ledger lives, parsed from `--database`: a SQLite file (`sqlite:///abs/path`,
/// `sqlite:relative/path` or a plain path) or a PostgreSQL server
/// (`postgres://user:password@host:port/database?sslmode=disable|prefer|require`).
///
/// `description` never contains the password.
public enum LedgerLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// The ledger file inside a data directory: `DATA/ledger.sqlite`.
    public static func defaultLocation(dataDirectory: String) -> LedgerLocation {
        .sqlite(path: URL(fileURLWithPath: dataDirectory).appendingPathComponent("ledger.sqlite").path)
    }

    /// - Throws: `LedgerError.badLocation` naming what is wrong with the text.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw LedgerError(.badLocation, "the database location is empty") }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(parsing: trimmed))
        } else if lower.hasPrefix("sqlite://") {
            let path = String(trimmed.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw LedgerError(.badLocation, "\(trimmed) names no file") }
            self = .sqlite(path: path.removingPercentEncoding ?? path)
        } else if lower.hasPrefix("sqlite:") {
            let path = String(trimmed.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw LedgerError(.badLocation, "\(trimmed) names no file") }
            self = .sqlite(path: path)
        } else if let scheme = trimmed.range(of: "://") {
            throw LedgerError(
                .badLocation,
                "unsupported database scheme \(trimmed[..<scheme.lowerBound])://: use a SQLite path or postgres://")
        } else {
            self = .sqlite(path: trimmed)
        }
    }

    public var backend: LedgerBackend {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite://\(path)"
        case .postgres(let location): location.description
        }
    }
}

/// A PostgreSQL server and database, from a `postgres://` URL.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Hashable {
        /// Plain TCP (a server on loopback or a private network).
        case disable
        /// TLS when the server offers it, plain TCP otherwise (libpq's default).
        case prefer
        /// TLS with the server's certificate verified; fail otherwise.
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(
        host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
        tls: TLSMode = .prefer
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// - Throws: `LedgerError.badLocation` naming the part that is missing or malformed (never the password).
    public init(parsing text: String) throws {
        let redacted = PostgresLocation.redact(text)
        guard let components = URLComponents(string: text) else {
            throw LedgerError(.badLocation, "\(redacted) is not a valid URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw LedgerError(.badLocation, "\(redacted) names no host (postgres://user:password@host:port/database)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw LedgerError(.badLocation, "\(redacted) names no user (postgres://user:password@host:port/database)")
        }
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw LedgerError(.badLocation, "\(redacted): unknown sslmode \(item.value ?? "")")
                }
            default:
                throw LedgerError(.badLocation, "\(redacted): unknown parameter \(item.name) (only sslmode is read)")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? user : (database.removingPercentEncoding ?? database), tls: tls)
    }

    /// `postgres://user@host:port/database`: the password is never shown.
    public var description: String {
        let secret = password == nil ? "" : ":***"
        return "postgres://\(username)\(secret)@\(host):\(port)/\(database)"
    }

    /// The URL text with any password replaced by `***`, for error messages.
    static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", range: scheme.upperBound..<text.endIndex)
        else { return text }
        let credentials = text[scheme.upperBound..<at.lowerBound]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return text[..<colon] + ":***" + text[at.lowerBound...]
    }
}

/// How a ledger store is opened.
public struct LedgerOptions: Sendable {
    /// The time source for leases, run-at times and stamps.
    public var clock: LedgerClock
    /// PostgreSQL: the most connections the pool opens. SQLite: the reader connections beside the one writer.
    public var maximumConnections: Int
    /// Apply pending migrations when the store opens (the default). Off, a store on an older schema is
    /// refused instead.
    public var migrate: Bool

    public init(clock: LedgerClock = .system, maximumConnections: Int = 10, migrate: Bool = true) {
        self.clock = clock
        self.maximumConnections = maximumConnections
        self.migrate = migrate
    }
}
