/// An exact ratio such as a frame rate (30/1, 30000/1001) or a time base (1/15360).
public struct Rational: Sendable, Hashable, Codable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public init(_ numerator: Int, _ denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Parses "30/1", "30000/1001" or a plain integer "24".
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let n = Int(parts[0]) else { return nil }
            self.init(n, 1)
        case 2:
            guard let n = Int(parts[0]), let d = Int(parts[1]), d != 0 else { return nil }
            self.init(n, d)
        default:
            return nil
        }
    }

    public var doubleValue: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    public var isValid: Bool { numerator > 0 && denominator > 0 }
    public var description: String { "\(numerator)/\(denominator)" }

    /// The same ratio in lowest terms.
    public var reduced: Rational {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? abs(a) : gcd(b, a % b) }
        let g = gcd(numerator, denominator)
        return g == 0 ? self : Rational(numerator / g, denominator / g)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Rational(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a ratio: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
