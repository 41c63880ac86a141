import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The ledger on a PostgreSQL server: a pool of connections, safe to share between any number of
/// processes on any number of machines. Claims use `FOR UPDATE SKIP LOCKED`, budget checks lock the
/// budget's row, migrations and the lease rescuer take advisory locks so one node acts at a time.
public final class PostgresLedgerStore: LedgerStore {
    public let server: PostgresLocation
    public let options: LedgerOptions
    public var backend: LedgerBackend { .postgres }
    public var location: LedgerLocation { .postgres(server) }

    private let client: PostgresClient
    private let running: Task<Void, Never>

    private init(server: PostgresLocation, options: LedgerOptions, client: PostgresClient) {
        self.server = server
        self.options = options
        self.client = client
        running = Task { await client.run() }
    }

    static let quietLogger = Logger(label: "clipkit.ledger.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Connects to `server` (once, directly, so a wrong password or a missing database is one clear
    /// error instead of a pool retrying), then opens the pool and applies migrations.
    /// - Throws: `LedgerError.unavailable` naming the server (never the password) and PostgreSQL's reason.
    public static func open(_ server: PostgresLocation, options: LedgerOptions = LedgerOptions()) async throws
        -> PostgresLedgerStore
    {
        try await probe(server)
        var configuration = PostgresClient.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password,
            database: server.database, tls: clientTLS(server.tls))
        configuration.options.maximumConnections = max(1, options.maximumConnections)
        let store = PostgresLedgerStore(
            server: server, options: options, client: PostgresClient(configuration: configuration, backgroundLogger: quietLogger))
        return try await Schema.prepared(store)
    }

    private static func probe(_ server: PostgresLocation) async throws {
        do {
            let tls: PostgresConnection.Configuration.TLS
            switch server.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            var configuration = PostgresConnection.Configuration(
                host: server.host, port: server.port, username: server.username, password: server.password,
                database: server.database, tls: tls)
            configuration.options.connectTimeout = .seconds(10)
            let connection = try await PostgresConnection.connect(
                configuration: configuration, id: 0, logger: quietLogger)
            try? await connection.close()
        } catch {
            throw LedgerError(.unavailable, "cannot connect to PostgreSQL at \(server): \(PostgresExecutor.reason(error))")
        }
    }

    private static func clientTLS(_ mode: PostgresLocation.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }


    @discardableResult
    public func transaction<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        try await withExecutor { executor in
            try await executor.execute("BEGIN")
            do {
                let result = try await body(LedgerTransaction(executor: executor, backend: .postgres, clock: options.clock))
                try await executor.end("COMMIT")
                return result
            } catch {
                do {
                    try await executor.end("ROLLBACK")
                } catch {
                    // Back in the pool mid-transaction, the connection would hold its row locks (claims
                    // skip locked rows) and lend the open transaction to whoever uses it next.
                    try? await executor.connection.close()
                }
                throw error
            }
        }
    }


    @discardableResult
    public func autocommit<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        try await withExecutor { executor in
            try await body(LedgerTransaction(executor: executor, backend: .postgres, clock: options.clock))
        }
    }

    public func read<T: Sendable>(_ body: (LedgerTransaction) async throws -> T) async throws -> T {
        try await autocommit(body)
    }

    private func withExecutor<T: Sendable>(_ body: (PostgresExecutor) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                try await body(PostgresExecutor(connection: connection))
            }
        } catch let error as PSQLError {
            throw LedgerError(.unavailable, "PostgreSQL at \(server): \(PostgresExecutor.reason(error))")
        }
    }

    public func close() async throws {
        running.cancel()
        await running.value
    }
}

/// Runs the shared SQL on one PostgreSQL connection. Values travel in binary, except amounts and JSON,
/// which travel as text so that no digit is ever converted through a float.
struct PostgresExecutor: SQLExecutor {
    let connection: PostgresConnection

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: sql, binds: Self.bindings(binds)), logger: PostgresLedgerStore.quietLogger
            ).collect()
            return try rows.map(Self.row)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.database, "PostgreSQL refused \(SQLiteExecutor.summary(sql)): \(Self.reason(error))")
        }
    }

    func query<Statement: FixedStatement>(_ statement: Statement.Type, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            let rows = try await connection.execute(
                Prepared<Statement>(bindings: Self.bindings(binds)), logger: PostgresLedgerStore.quietLogger)
            var result: [SQLRow] = []
            for try await row in rows { result.append(try Self.row(row)) }
            return result
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.database, "PostgreSQL refused \(SQLiteExecutor.summary(Statement.sql)): \(Self.reason(error))")
        }
    }

    private static func bindings(_ binds: [SQLValue]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            if value == .null {
                bindings.appendNull()
            } else {
                bindings.append(PostgresValue(value))
            }
        }
        return bindings
    }

    private static func row(_ row: PostgresRow) throws -> SQLRow {
        var values: [String: SQLValue] = [:]
        for cell in row { values[cell.columnName] = try value(cell) }
        return SQLRow(values: values)
    }

    /// PostgreSQL's own words for a failure: the server's message and SQLSTATE, or the client's code.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// Microseconds from 1970 to 2000-01-01, PostgreSQL's epoch.
    static let epochOffset: Int64 = 946_684_800_000_000

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        if cell.format == .text {
            return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        }
        switch cell.dataType {
        case .int2: return .int(Int64(try read(Int16.self, &bytes, cell)))
        case .int4: return .int(Int64(try read(Int32.self, &bytes, cell)))
        case .int8: return .int(try read(Int64.self, &bytes, cell))
        case .bool: return .bool(try read(UInt8.self, &bytes, cell) != 0)
        case .text, .varchar, .name, .bpchar: return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        case .timestamptz, .timestamp:
            return .date(Date(ledgerMicroseconds: try read(Int64.self, &bytes, cell) + epochOffset))
        case .numeric:
            guard let text = NumericDigits.text(fromBinary: &bytes), let amount = Decimal(string: text, locale: posix)
            else { throw LedgerError(.corruptRecord, "column \(cell.columnName) holds a NUMERIC that is not a finite amount") }
            return .decimal(amount)
        case .jsonb:
            // Binary JSONB is a version byte (1) and the JSON text.
            guard bytes.readInteger(as: UInt8.self) == 1 else {
                throw LedgerError(.corruptRecord, "column \(cell.columnName) holds JSONB of an unknown version")
            }
            return .json(bytes.readString(length: bytes.readableBytes) ?? "")
        case .json: return .json(bytes.readString(length: bytes.readableBytes) ?? "")
        default:
            throw LedgerError(.corruptRecord, "column \(cell.columnName) has the unexpected type \(cell.dataType)")
        }
    }

    private static let posix = Locale(identifier: "en_US_POSIX")

    private static func read<I: FixedWidthInteger>(_ type: I.Type, _ bytes: inout ByteBuffer, _ cell: PostgresCell) throws -> I {
        guard bytes.readableBytes == MemoryLayout<I>.size, let value = bytes.readInteger(as: I.self) else {
            throw LedgerError(.corruptRecord, "column \(cell.columnName) holds \(bytes.readableBytes) bytes for a \(cell.dataType)")
        }
        return value
    }
}

/// A `FixedStatement` as postgres-nio prepares it: once per connection, by name.
struct Prepared<Statement: FixedStatement>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { "clipkit_" + String(describing: Statement.self) }
    static var sql: String { Statement.sql }
    static var bindingDataTypes: [PostgresDataType] { Statement.parameters.map(PostgresValue.type) }

    let bindings: PostgresBindings
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// One bound value in PostgreSQL's wire format.
struct PostgresValue: PostgresDynamicTypeEncodable {
    let value: SQLValue

    init(_ value: SQLValue) { self.value = value }

    var psqlType: PostgresDataType {
        switch value {
        case .null, .text: .text
        case .int: .int8
        case .bool: .bool
        case .date: .timestamptz
        case .decimal: .numeric
        case .json: .jsonb
        }
    }

    static func type(_ kind: SQLValue.Kind) -> PostgresDataType {
        switch kind {
        case .text: .text
        case .int: .int8
        case .bool: .bool
        case .date: .timestamptz
        case .decimal: .numeric
        case .json: .jsonb
        }
    }

    var psqlFormat: PostgresFormat {
        switch value {
        case .decimal, .json: .text
        default: .binary
        }
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        switch value {
        case .null: break
        case .text(let text), .json(let text): buffer.writeString(text)
        case .int(let value): buffer.writeInteger(value)
        case .bool(let value): buffer.writeInteger(UInt8(value ? 1 : 0))
        case .date(let date): buffer.writeInteger(date.ledgerMicroseconds - PostgresExecutor.epochOffset)
        case .decimal(let amount): buffer.writeString(amount.description)
        }
    }
}

/// PostgreSQL's binary NUMERIC, read digit group by digit group into plain decimal text, so an amount
/// arrives exactly as stored.
enum NumericDigits {
    /// nil for NaN or infinities, which no ledger column holds.
    static func text(fromBinary buffer: inout ByteBuffer) -> String? {
        guard let count = buffer.readInteger(as: Int16.self), let weight = buffer.readInteger(as: Int16.self),
            let sign = buffer.readInteger(as: UInt16.self), let scale = buffer.readInteger(as: Int16.self),
            count >= 0, scale >= 0
        else { return nil }
        var groups: [Int16] = []
        for _ in 0..<count {
            guard let group = buffer.readInteger(as: Int16.self), (0..<10_000).contains(group) else { return nil }
            groups.append(group)
        }
        guard sign == 0x0000 || sign == 0x4000 else { return nil }
        // Group i is worth 10000^(weight - i).
        func group(at power: Int) -> Int16 {
            let index = Int(weight) - power
            return groups.indices.contains(index) ? groups[index] : 0
        }
        var integer = ""
        if weight >= 0 {
            for power in stride(from: Int(weight), through: 0, by: -1) {
                let digits = String(group(at: power))
                integer += integer.isEmpty ? digits : String(repeating: "0", count: 4 - digits.count) + digits
            }
        }
        if integer.isEmpty { integer = "0" }
        var fraction = ""
        var power = -1
        while fraction.count < Int(scale) {
            let digits = String(group(at: power))
            fraction += String(repeating: "0", count: 4 - digits.count) + digits
            power -= 1
        }
        fraction = String(fraction.prefix(Int(scale)))
        let negative = sign == 0x4000 && (integer != "0" || fraction.contains { $0 != "0" })
        return (negative ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
    }
}
