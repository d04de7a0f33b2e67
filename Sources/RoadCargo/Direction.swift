/// The import/export indicator of a consignment or bundle, and the direction
/// of a lane: an inbound lane takes imports into Hong Kong, an outbound lane
/// exports. Spelled "import" and "export" in every external format.
public enum Direction: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case inbound = "import"
    case outbound = "export"

    public init(_ raw: String) throws(ValidationFailure) {
        switch raw.lowercased() {
        case "import", "i", "inbound": self = .inbound
        case "export", "e", "outbound": self = .outbound
        default:
            throw ValidationFailure(
                field: "", rule: "direction.unknown",
                detail: "the import/export indicator is \"import\" or \"export\", not \"\(raw)\"")
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let d = Direction(rawValue: raw) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "the import/export indicator is \"import\" or \"export\", not \"\(raw)\""))
        }
        self = d
    }
}

/// A Land Boundary Control Point. Codes are this project's own, three
/// letters, used in configs, the API and the journal.
public enum ControlPoint: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case lokMaChau = "LMC"
    case manKamTo = "MKT"
    case shaTauKok = "STK"
    case shenzhenBay = "SBC"
    case heungYuenWai = "HYW"
    case hongKongZhuhaiMacaoBridge = "HZM"

    public init(_ raw: String) throws(ValidationFailure) {
        let key = raw.trimmingWhitespace()
        if let cp = ControlPoint(rawValue: key.uppercased()) {
            self = cp
            return
        }
        if let cp = ControlPoint.allCases.first(where: { $0.englishName.lowercased() == key.lowercased() }) {
            self = cp
            return
        }
        throw ValidationFailure(
            field: "", rule: "control-point.unknown",
            detail: "unknown control point \"\(raw)\"; known: "
                + ControlPoint.allCases.map { "\($0.rawValue) (\($0.englishName))" }.joined(separator: ", "))
    }

    public var englishName: String {
        switch self {
        case .lokMaChau: "Lok Ma Chau"
        case .manKamTo: "Man Kam To"
        case .shaTauKok: "Sha Tau Kok"
        case .shenzhenBay: "Shenzhen Bay"
        case .heungYuenWai: "Heung Yuen Wai"
        case .hongKongZhuhaiMacaoBridge: "Hong Kong-Zhuhai-Macao Bridge"
        }
    }

    public var traditionalChineseName: String {
        switch self {
        case .lokMaChau: "落馬洲"
        case .manKamTo: "文錦渡"
        case .shaTauKok: "沙頭角"
        case .shenzhenBay: "深圳灣"
        case .heungYuenWai: "香園圍"
        case .hongKongZhuhaiMacaoBridge: "港珠澳大橋"
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }
}

/// A lane's identifier, e.g. `LMC-IN-03`: 1 to 32 characters of A-Z, a-z,
/// 0-9, `-` and `_`, so it is safe in file names, unit instance names and URLs.
public struct LaneID: Sendable, Hashable, ValidatedStringCodable, Comparable, CustomStringConvertible {
    public let value: String

    public init(_ raw: String) throws(ValidationFailure) {
        guard !raw.isEmpty, raw.count <= 32,
            raw.unicodeScalars.allSatisfy({
                ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                    || $0 == "_"
            })
        else {
            throw ValidationFailure(
                field: "", rule: "lane-id.format",
                detail: "a lane id is 1 to 32 of A-Z, a-z, 0-9, '-' and '_'; \"\(raw)\" is not")
        }
        value = raw
    }

    public var description: String { value }
    public var canonicalString: String { value }
    public static func < (a: LaneID, b: LaneID) -> Bool { a.value < b.value }

}

/// A kiosk position central knows: where it stands and which way it faces.
public struct Lane: Sendable, Hashable, Codable {
    public var id: LaneID
    public var controlPoint: ControlPoint
    public var direction: Direction

    public init(id: LaneID, controlPoint: ControlPoint, direction: Direction) {
        self.id = id
        self.controlPoint = controlPoint
        self.direction = direction
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
