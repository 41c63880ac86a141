/// A provider's resolution tier. Providers bill by tier, and a tier is a pixel budget rather than
/// one size: i2v keeps the input image's aspect, so "480P" may be 832×480, 480×832, 624×624 or
/// another shape of about 400 k pixels. A clip is placed by its pixel area, whatever its orientation.
public enum Tier: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case p480 = "480P"
    case p720 = "720P"
    case p1080 = "1080P"

    /// Nominal pixel area of the tier (832×480, 1280×720, 1920×1080).
    public var nominalArea: Int {
        switch self {
        case .p480: 832 * 480
        case .p720: 1280 * 720
        case .p1080: 1920 * 1080
        }
    }

    /// Pixel areas that still count as this tier. The bounds sit between the tiers with room for
    /// the sizes providers really deliver (624×624 = 389 k, 1440×1440 = 2.07 M, 1632×1248 = 2.04 M)
    /// and for the open model's 1280×704.
    public var areaRange: ClosedRange<Int> {
        switch self {
        case .p480: 300_000...560_000
        case .p720: 700_000...1_200_000
        case .p1080: 1_600_000...2_400_000
        }
    }

    /// The tier whose pixel budget a width × height frame fits, or nil if none does.
    public static func classify(width: Int, height: Int) -> Tier? {
        let area = width * height
        return allCases.first { $0.areaRange.contains(area) }
    }

    /// Accepts "480P", "480p", "480".
    public init?(parsing text: String) {
        let upper = text.uppercased()
        self.init(rawValue: upper.hasSuffix("P") ? upper : upper + "P")
    }

    public static func < (a: Tier, b: Tier) -> Bool { a.nominalArea < b.nominalArea }
}
