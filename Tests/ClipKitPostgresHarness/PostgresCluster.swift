import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL server for one test (or bench) process, from Debian's `postgresql` binaries:
/// `initdb` into a fresh folder under the temporary directory, `pg_ctl start` on 127.0.0.1 and a free
/// port, with password (SCRAM) authentication for a superuser `clipkit`.
///
/// It never outlives its process for long: a watchdog shell started beside it stops the server (and
/// removes its folder) within a second of the process ending, however it ends, SIGKILL included; and
/// each start first stops and removes any cluster left by a process that no longer exists (the watchdog
/// itself killed). `initdb` refuses to run as root, so under root every PostgreSQL program runs as the
/// `postgres` system user (created by the Debian package) through `runuser`.
public final class PostgresCluster: Sendable {
    public let port: Int
    public let username = "clipkit"
    public let password: String
    /// The folder holding the data directory, the log and the owner's pid.
    public let folder: String
    private let binaries: String

    /// `postgres://clipkit:PASSWORD@127.0.0.1:PORT/DATABASE`.
    public func url(database: String = "postgres") -> String {
        "postgres://\(username):\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The cluster shared by every test in this process, started on first use.
    /// - Throws: `PostgresClusterError` saying why PostgreSQL could not be started (the tests fail with
    ///   it; they never skip).
    public static func shared() async throws -> PostgresCluster {
        try await sharedCluster.value
    }

    private static let sharedCluster = Task { try await offThread { try PostgresCluster.start(durable: false) } }

    /// Starts a new cluster. `durable: false` (tests) turns off fsync and synchronous commit, which a
    /// throw-away cluster does not need; `durable: true` (bench) keeps PostgreSQL's defaults.
    /// - Throws: `PostgresClusterError` naming the step that failed, with the server log's tail.
    public static func start(durable: Bool) throws -> PostgresCluster {
        let binaries = try findBinaries()
        // Under root the server runs as postgres, which must be able to reach the folder: /tmp, not $TMPDIR.
        let root = (getuid() == 0 ? "/tmp" : NSTemporaryDirectory()) + "/clipkit-postgres"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o1777)
        removeAbandoned(in: root)
        let folder = root + "/run-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try String(getpid()).write(toFile: folder + "/owner.pid", atomically: true, encoding: .utf8)
        let password = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        try password.write(toFile: folder + "/password", atomically: true, encoding: .utf8)
        let asPostgres = getuid() == 0
        if asPostgres { try handToPostgresUser(folder) }

        try run(
            binaries + "/initdb",
            ["-D", folder + "/data", "-U", "clipkit", "--auth=scram-sha-256", "--pwfile=" + folder + "/password",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            asPostgres: asPostgres, step: "initdb", log: nil)
        var settings = [
            "listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", "max_connections = 300",
            "shared_buffers = 128MB", "log_min_messages = warning",
        ]
        if !durable { settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"] }
        let configuration = folder + "/data/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: configuration))
        handle.seekToEndOfFile()
        handle.write(Data(("\n# ClipKit test cluster\n" + settings.joined(separator: "\n") + "\n").utf8))
        try handle.close()

        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freePort()
            do {
                try run(
                    binaries + "/pg_ctl",
                    ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o", "-p \(port)", "start"],
                    asPostgres: asPostgres, step: "pg_ctl start", log: folder + "/server.log")
                let cluster = PostgresCluster(port: port, password: password, folder: folder, binaries: binaries)
                try cluster.startWatchdog()
                return cluster
            } catch {
                lastError = error  // most likely the port was taken meanwhile: try another
            }
        }
        throw lastError ?? PostgresClusterError("pg_ctl start failed")
    }

    private init(port: Int, password: String, folder: String, binaries: String) {
        self.port = port
        self.password = password
        self.folder = folder
        self.binaries = binaries
    }

    /// Creates an empty database and returns its URL.
    /// - Throws: `PostgresClusterError` with psql's message.
    public func createDatabase(_ name: String = "t_" + UUID().uuidString.prefix(12).lowercased()) async throws -> String {
        try await offThread { try self.psql("CREATE DATABASE \"\(name)\"") }
        return url(database: name)
    }

    /// Runs SQL with psql as the superuser on the `postgres` database.
    public func psql(_ sql: String) throws {
        try Self.run(
            binaries + "/psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", username, "-d", "postgres",
             "-c", sql],
            asPostgres: false, step: "psql", log: nil, environment: ["PGPASSWORD": password])
    }

    /// Stops the server now and removes its folder (otherwise the watchdog does when the process ends).
    public func stop() {
        Self.stopServer(in: folder)
        try? FileManager.default.removeItem(atPath: folder)
    }

    // MARK: - Steps

    private static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        throw PostgresClusterError(
            "PostgreSQL's server programs were not found (looked for \(root)/*/bin/initdb): install the Debian package "
                + "postgresql (scripts/install-deps.sh does)")
    }

    private static func handToPostgresUser(_ folder: String) throws {
        guard let user = getpwnam("postgres") else {
            throw PostgresClusterError(
                "running as root, the test cluster needs the postgres system user (initdb refuses root); "
                    + "it comes with the Debian package postgresql")
        }
        guard chown(folder, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw PostgresClusterError("cannot give \(folder) to the postgres user: \(String(cString: strerror(errno)))")
        }
        for file in ["owner.pid", "password"] {
            _ = chown(folder + "/" + file, user.pointee.pw_uid, user.pointee.pw_gid)
        }
    }

    /// A shell that waits for this process to end, then stops the server and removes the folder.
    private func startWatchdog() throws {
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            pid=$(head -n 1 '\(folder)/data/postmaster.pid' 2>/dev/null)
            [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null
            for i in $(seq 1 30); do [ -e '\(folder)/data/postmaster.pid' ] || break; sleep 0.5; done
            [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
            rm -rf '\(folder)'
            """
        do {
            _ = try Spawn.start(["/usr/bin/setsid", "/bin/sh", "-c", script], output: "/dev/null")
        } catch {
            stop()
            throw PostgresClusterError("cannot start the watchdog of the test cluster: \(error)")
        }
    }

    /// Stops and removes clusters whose owning process is gone (left behind when even the watchdog died).
    private static func removeAbandoned(in root: String) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where entry.hasPrefix("run-") {
            let folder = root + "/" + entry
            guard let text = try? String(contentsOfFile: folder + "/owner.pid", encoding: .utf8),
                let owner = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            if kill(owner, 0) == 0 || errno == EPERM { continue }
            stopServer(in: folder)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private static func stopServer(in folder: String) {
        guard let text = try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = pid_t(line)
        else { return }
        kill(pid, SIGINT)
        for _ in 0..<60 {
            if kill(pid, 0) != 0 { return }
            usleep(100_000)
        }
        kill(pid, SIGQUIT)
    }

    private static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw PostgresClusterError("cannot open a socket to find a free port") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
            }
        }
        guard bound else { throw PostgresClusterError("cannot find a free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func run(
        _ program: String, _ arguments: [String], asPostgres: Bool, step: String, log: String?,
        environment: [String: String] = [:]
    ) throws {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments : [program] + arguments
        // Output goes to a file, not a pipe: the server pg_ctl starts would hold a pipe open for ever.
        let outputPath = NSTemporaryDirectory() + "clipkit-postgres-\(getpid())-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status: Int32
        do {
            status = try Spawn.wait(Spawn.start(argv, output: outputPath, environment: environment))
        } catch {
            throw PostgresClusterError("\(step): cannot run \(program): \(error)")
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            var message = "\(step) failed (exit \(status)): \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
            if let log, let tail = try? String(contentsOfFile: log, encoding: .utf8) {
                message += "\nserver log:\n" + tail.split(separator: "\n").suffix(15).joined(separator: "\n")
            }
            throw PostgresClusterError(message)
        }
    }
}

/// posix_spawn and waitpid, without Foundation's Process (whose exit notification did not arrive for a
/// child started from a plain thread here, leaving the caller waiting on a zombie).
enum Spawn {
    /// Starts `argv` with stdin from /dev/null and stdout and stderr appended to `output`.
    static func start(_ argv: [String], output: String, environment: [String: String] = [:]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = variables.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, &cEnvironment)
        guard result == 0 else { throw PostgresClusterError("posix_spawn \(argv[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// Waits for `pid` and returns its exit status (128 + signal when killed).
    static func wait(_ pid: pid_t) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw PostgresClusterError("waitpid: \(String(cString: strerror(errno)))") }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

public struct PostgresClusterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = "test PostgreSQL: " + description }
}

/// Runs blocking work (starting a server, psql) on a thread of its own, not on one of the few threads
/// that run every test's tasks.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
