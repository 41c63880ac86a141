import ClipKitCore
import Crypto
import Foundation

/// Verifies WaveSpeed webhook deliveries as WaveSpeed signs them: `webhook-signature: v3,<hex>` where
/// hex is HMAC-SHA256 over `"{webhook-id}.{webhook-timestamp}.{raw body}"`, keyed with the account's
/// secret minus its `whsec_` prefix (the remaining text's UTF-8 bytes, not base64-decoded).
public struct WebhookVerifier: Sendable {
    /// Why a delivery was rejected.
    public enum Rejection: ClipKitError, Equatable {
        /// Why the delivery was rejected, for a program to switch on.
        public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
            case missingHeader, malformedSignature, badTimestamp, stale, signatureMismatch
        }

        case missingHeader(String)
        case malformedSignature(String)
        case badTimestamp(String)
        /// The timestamp is further than the tolerance from now (a replay, or a clock far off).
        case stale(ageSeconds: Int)
        case signatureMismatch

        public var code: Code {
            switch self {
            case .missingHeader: .missingHeader
            case .malformedSignature: .malformedSignature
            case .badTimestamp: .badTimestamp
            case .stale: .stale
            case .signatureMismatch: .signatureMismatch
            }
        }

        public var description: String {
            switch self {
            case .missingHeader(let name): "webhook rejected: no \(name) header"
            case .malformedSignature(let value): "webhook rejected: signature \"\(value)\" is not v3,<hex>"
            case .badTimestamp(let value): "webhook rejected: timestamp \"\(value)\" is not Unix seconds"
            case .stale(let age): "webhook rejected: timestamp is \(age) s from now (limit 300 s)"
            case .signatureMismatch: "webhook rejected: signature does not match the body"
            }
        }
    }

    /// The HMAC key's bytes (`SymmetricKey` is not `Sendable`, so it is made per check).
    private let key: Data
    /// How far a delivery's timestamp may be from now.
    public var tolerance: TimeInterval

    /// - Parameter secret: the webhook secret as shown in WaveSpeed's console, `whsec_…`.
    public init(secret: String, tolerance: TimeInterval = 300) {
        let raw = secret.hasPrefix("whsec_") ? String(secret.dropFirst("whsec_".count)) : secret
        key = Data(raw.utf8)
        self.tolerance = tolerance
    }

    /// Checks one delivery.
    /// - Parameter headers: header names in any case.
    /// - Throws: `Rejection` saying what was wrong.
    public func verify(body: Data, headers: [String: String], now: Date = Date()) throws {
        // Over UTF-8 bytes throughout: Foundation's trimming, splitting and Character iteration each cost a
        // burst of deliveries more than the HMAC.
        func header(_ name: String) throws -> Substring.UTF8View {
            guard let value = headers[name] ?? headers.first(where: { $0.key.lowercased() == name })?.value, !value.isEmpty else {
                throw Rejection.missingHeader(name)
            }
            // Spaces and tabs: HTTP's optional whitespace.
            let kept: (UInt8) -> Bool = { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard let first = value.utf8.firstIndex(where: kept), let last = value.utf8.lastIndex(where: kept) else {
                return Substring().utf8
            }
            return value.utf8[first...last]
        }
        let id = try header("webhook-id"), timestamp = try header("webhook-timestamp")
        let signature = try header("webhook-signature")
        // Unix seconds as digits only: `TimeInterval("INF")` parses, and an infinite age traps in `Int(_:)`.
        guard !timestamp.isEmpty, timestamp.count <= 12, timestamp.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { throw Rejection.badTimestamp(String(Substring(timestamp))) }
        let seconds = timestamp.reduce(0) { $0 * 10 + TimeInterval($1 - UInt8(ascii: "0")) }
        let age = now.timeIntervalSince1970 - seconds
        guard abs(age) <= tolerance else { throw Rejection.stale(ageSeconds: Int(age.rounded())) }
        // A header may carry several space-separated signatures (key rotation); any v3 match passes.
        let candidates = signature.split(separator: UInt8(ascii: " ")).compactMap { part -> [UInt8]? in
            guard part.starts(with: "v3,".utf8) else { return nil }
            return Self.bytes(hex: part.dropFirst(3))
        }
        guard !candidates.isEmpty else { throw Rejection.malformedSignature(String(Substring(signature))) }
        var signed: [UInt8] = []
        signed.reserveCapacity(id.count + timestamp.count + 2 + body.count)
        signed += id
        signed.append(UInt8(ascii: "."))
        signed += timestamp
        signed.append(UInt8(ascii: "."))
        signed += body
        let symmetric = SymmetricKey(data: key)
        for candidate in candidates where HMAC<SHA256>.isValidAuthenticationCode(candidate, authenticating: signed, using: symmetric) {
            return
        }
        throw Rejection.signatureMismatch
    }

    /// Bytes from lower- or upper-case hex; nil for anything else.
    static func bytes(hex: some Collection<UInt8>) -> [UInt8]? {
        guard !hex.isEmpty, hex.count % 2 == 0 else { return nil }
        func nibble(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = [], high: UInt8?
        bytes.reserveCapacity(hex.count / 2)
        for digit in hex {
            guard let value = nibble(digit) else { return nil }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }
}
