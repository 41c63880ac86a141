import ClipKitConsole
import ClipKitCore
import ClipKitProviders
import Foundation

/// Prints each state change once, and download progress at most every 0.2 s.
final class GenerateProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drewProgress = false
    private let interactive = isatty(2) != 0

    var report: @Sendable (RunEvent) async -> Void {
        { [self] event in self.handle(event) }
    }

    private func handle(_ event: RunEvent) {
        lock.withLock {
            switch event {
            case .preparing: line("preparing the request")
            case .submitting(let attempt): line(attempt == 1 ? "submitting" : "submitting (attempt \(attempt))")
            case .retrying(let reason, let delay):
                let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                line(seconds > 0 ? "\(reason); retrying in \(String(format: "%.1f", seconds)) s" : reason)
            case .submitted(let id, let recovered): line(recovered ? "found task \(id) created by the lost submission" : "submitted task \(id)")
            case .status(let snapshot): line("\(snapshot.state.rawValue) (\(snapshot.status))")
            case .downloading(let bytes, let total):
                let now = Date()
                guard bytes == total || now.timeIntervalSince(lastDraw) > 0.2 else { return }
                lastDraw = now
                let text = "downloading \(Self.megabytes(bytes))" + (total.map { " of \(Self.megabytes($0))" } ?? "")
                if interactive {
                    FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
                    drewProgress = true
                } else {
                    line(text)
                }
            case .downloaded: break
            }
        }
    }

    func finish() {
        lock.withLock {
            if drewProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            drewProgress = false
        }
    }

    private func line(_ text: String) {
        if drewProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        drewProgress = false
        Stderr.print(text)
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}
