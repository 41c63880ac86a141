import ArgumentParser
import ClipKitConsole
import ClipKitLedger
import ClipKitProviders
import ClipKitService
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run task jobs from a shared ledger, without serving HTTP: add machines to clipkit serve.",
        discussion: """
            Any number of workers, on any number of machines, claim jobs from the same ledger as the API nodes
            (clipkit serve, which may run with --workers 0). A job is leased and its lease renewed while it
            runs; when a worker dies its jobs are taken over by another once the lease ends, and every step
            is safe to run again (no provider task is submitted twice for one request). SIGTERM or SIGINT stops
            claiming and lets running jobs finish (30 s at most); what is left is handed back at once.

            --data must be the directory the API nodes use (a shared mount on several machines): the worker
            checks it can write there and that its .clipkit-ledger marker names this ledger, and refuses to
            start otherwise.

            Examples:
              clipkit worker --database postgres://clipkit:secret@db:5432/clipkit --data /mnt/clipkit
              clipkit worker --database postgres://… --data /mnt/clipkit --concurrency 8 --kinds task.download,task.verify

            Exit codes: 0 stopped by a signal; 2 bad arguments, or --data is not this ledger's directory;
            3 the ledger cannot be opened; 4 the data directory cannot be written.
            """
    )

    @OptionGroup var ledger: LedgerOptions

    @Option(help: "Jobs run at once.")
    var concurrency = 4

    @Option(help: "Job kinds to run, comma-separated (default: every task step: \(TaskService.Kind.all.joined(separator: ","))).")
    var kinds: String?

    @Option(help: "Seconds a job stays leased without a heartbeat before another worker takes it over.")
    var lease = 30.0

    @OptionGroup var providers: TaskServiceOptions

    var kindList: [String] {
        kinds.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? TaskService.Kind.all
    }

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard lease >= 1 else { throw ValidationError("--lease must be at least 1 second") }
        let unknown = kindList.filter { !TaskService.Kind.all.contains($0) }
        guard unknown.isEmpty, !kindList.isEmpty else {
            throw ValidationError("--kinds: unknown \(unknown.joined(separator: ", ")); known: \(TaskService.Kind.all.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let location = try ledger.location()
        try await TaskServiceOptions.withNode(location) { store, transport in
            var logger = Logger(label: "clipkit.worker")
            logger.logLevel = .info
            try await DataDirectoryMarker.check(ledger.data, ledger: store, mayMark: false)
            let tasks = providers.service(store: store, data: ledger.data, transport: transport)
            let handlers = tasks.handlers().filter { kindList.contains($0.key) }
            let lease = Duration.milliseconds(Int64(self.lease * 1000))
            // Heartbeats well inside the lease; every worker also rescues (one at a time, by an advisory lock).
            let configuration = JobWorker.Configuration(concurrency: concurrency, lease: lease, heartbeatInterval: lease / 3,
                                                        rescueInterval: lease / 2)
            let worker = JobWorker(store: store, configuration: configuration, handlers: handlers, logger: logger)
            Stderr.print("clipkit worker \(configuration.workerID) running \(concurrency) jobs at once "
                + "(\(kindList.joined(separator: ", "))) from \(location), data \(ledger.data)")
            try await ServiceGroup(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
                                   logger: logger).run()
        }
        Stderr.print("clipkit worker stopped")
    }
}
