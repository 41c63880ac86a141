// bench/service.sh's burst generator: N keep-alive connections opened first, then one request written on
// each at the same moment, and each request timed from its own write to the last byte of its answer. One
// thread over non-blocking sockets and poll(2), requests serialized and signed before the clock starts: its
// own share of a latency is microseconds (Python's 200 threads add 70–110 ms of their own at p99). Its CPU
// while bursts are timed is reported (generator_cpu_ms_per_burst): on loopback the kernel's TCP work for
// the 200 writes and reads is most of it, a share of the cores the server does not get.
//   ClipKitBurstBench webhooks BASE SECRET [--deliveries 200] [--rounds 5]
//       signed WaveSpeed deliveries (webhook-signature v3: hex HMAC-SHA256 of "id.timestamp.body", keyed with
//       the secret minus whsec_), a new task and webhook id each, to POST /v1/webhooks/wavespeed
//   ClipKitBurstBench floor BASE [--deliveries 200] [--rounds 5]
//       the same bursts of GET /healthz (no database, no signature): the server's and this generator's floor
// Prints one JSON object: requests, per_second (requests over the bursts' wall time), p50_ms, p99_ms,
// max_ms, statuses, generator_cpu_ms_per_burst. Every round reuses the connections; all rounds' latencies are pooled.
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ClipKitBurstBench: \(message)\n".utf8))
    exit(2)
}

/// `--name N` taken out of `arguments`, or `value` when absent.
func option(_ name: String, default value: Int, in arguments: inout [String]) -> Int {
    guard let index = arguments.firstIndex(of: name) else { return value }
    guard index + 1 < arguments.count, let number = Int(arguments[index + 1]), number > 0 else {
        fail("\(name) needs a positive number")
    }
    arguments.removeSubrange(index...(index + 1))
    return number
}
var arguments = Array(CommandLine.arguments.dropFirst())
let deliveries = option("--deliveries", default: 200, in: &arguments)
let rounds = option("--rounds", default: 5, in: &arguments)
guard let mode = arguments.first, ["webhooks", "floor"].contains(mode), arguments.count == (mode == "webhooks" ? 3 : 2),
      let base = URL(string: arguments[1]), let host = base.host, let port = base.port
else { fail("usage: ClipKitBurstBench webhooks BASE SECRET | floor BASE [--deliveries N] [--rounds N]") }
// The HMAC key: the secret's text minus whsec_ (WaveSpeed's rule; see WebhookVerifier).
let secret = mode == "webhooks" ? String(arguments[2].trimmingPrefix("whsec_")) : ""

/// One request's bytes, ready to write.
func request() -> [UInt8] {
    guard mode == "webhooks" else { return Array("GET /healthz HTTP/1.1\r\nHost: \(host)\r\n\r\n".utf8) }
    let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let body = #"{"id":"bench-\#(suffix)","status":"completed","outputs":[]}"#
    let id = "msg_\(suffix)", timestamp = String(Int(Date().timeIntervalSince1970))
    let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8),
                                              using: SymmetricKey(data: Data(secret.utf8)))
    let signature = mac.map { String(format: "%02x", $0) }.joined()
    return Array("""
        POST /v1/webhooks/wavespeed HTTP/1.1\r
        Host: \(host)\r
        Content-Type: application/json\r
        Content-Length: \(body.utf8.count)\r
        webhook-id: \(id)\r
        webhook-timestamp: \(timestamp)\r
        webhook-signature: v3,\(signature)\r
        \r
        \(body)
        """.utf8)
}

func connectLoopback() -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { fail("socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { fail("\(host) is not an IPv4 address") }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { fail("connect to \(host):\(port): \(String(cString: strerror(errno)))") }
    var on: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    return fd
}

/// The status and whether `buffer` holds a whole answer (its headers and Content-Length bytes of body).
func parse(_ buffer: [UInt8]) -> (status: Int, complete: Bool)? {
    guard buffer.count >= 4,
          let headerEnd = (0...buffer.count - 4).first(where: { buffer[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) })
    else { return nil }
    let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
    let lines = head.split(separator: "\r\n")
    guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
          let status = Int(statusLine.split(separator: " ")[1]) else { fail("not an HTTP answer: \(head.prefix(80))") }
    let length = lines.dropFirst().compactMap { line -> Int? in
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
        return Int(parts[1].trimmingCharacters(in: .whitespaces))
    }.first ?? 0
    return (status, buffer.count >= headerEnd + 4 + length)
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// This thread's CPU time: the generator's own share of the machine while a burst is timed.
func threadCPU() -> Duration {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
}

let connections = (0..<deliveries).map { _ in connectLoopback() }
let clock = ContinuousClock()
var latencies: [Double] = [], statuses: [Int: Int] = [:], burstTime = Duration.zero, generatorCPU = Duration.zero
var chunk = [UInt8](repeating: 0, count: 65536)
for _ in 0..<rounds {
    let requests = (0..<deliveries).map { _ in request() }
    var started = [ContinuousClock.Instant](repeating: clock.now, count: deliveries)
    var received = [[UInt8]](repeating: [], count: deliveries)
    var pending = Set(0..<deliveries)
    let burstStart = clock.now, cpuStart = threadCPU()
    for (index, bytes) in requests.enumerated() {
        started[index] = clock.now
        let written = bytes.withUnsafeBytes { write(connections[index], $0.baseAddress, $0.count) }
        guard written == bytes.count else { fail("a request of \(bytes.count) bytes was written \(written) bytes") }
    }
    while !pending.isEmpty {
        var polled = pending.map { pollfd(fd: connections[$0], events: Int16(POLLIN), revents: 0) }
        guard poll(&polled, nfds_t(polled.count), 30_000) > 0 else { fail("no answer within 30 s (\(pending.count) pending)") }
        for (index, entry) in zip(pending, polled) where entry.revents != 0 {
            let count = read(entry.fd, &chunk, chunk.count)
            guard count > 0 else { fail("connection \(index) closed before its answer") }
            received[index] += chunk[..<count]
            if let answer = parse(received[index]), answer.complete {
                latencies.append(milliseconds(clock.now - started[index]))
                statuses[answer.status, default: 0] += 1
                pending.remove(index)
            }
        }
    }
    burstTime += clock.now - burstStart
    generatorCPU += threadCPU() - cpuStart
}
connections.forEach { close($0) }

let sorted = latencies.sorted()
func percentile(_ fraction: Double, of sorted: [Double]) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
let summary: [String: Any] = [
    "requests": sorted.count, "per_second": Double(sorted.count) / (milliseconds(burstTime) / 1000),
    "p50_ms": percentile(0.50, of: sorted), "p99_ms": percentile(0.99, of: sorted), "max_ms": sorted.last ?? 0,
    "statuses": Dictionary(uniqueKeysWithValues: statuses.map { (String($0.key), $0.value) }),
    "generator_cpu_ms_per_burst": milliseconds(generatorCPU) / Double(rounds),
]
print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
