/// The two boards of a lane.
public enum BoardKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// The Exit Display Board: a square LED board seen from the cab, shared
    /// with Immigration. Always Traditional Chinese and English together.
    case xdb
    /// The All-in-one Panel beside the driver's window: an LCD in one language
    /// the driver can switch.
    case aiop
}

/// A board as the driver sees it: its pixels, its physical size, and how far
/// away the driver's eyes are. Text sizes follow from these three.
public struct BoardGeometry: Sendable, Hashable, CustomStringConvertible {
    /// Pixels across.
    public let width: Int
    /// Pixels down.
    public let height: Int
    /// The lit area's physical width, in millimetres.
    public let physicalWidthMillimetres: Double
    /// The lit area's physical height, in millimetres.
    public let physicalHeightMillimetres: Double
    /// From the driver's eyes to the board, in metres.
    public let viewingDistanceMetres: Double

    /// - Throws: ``LayoutError/invalidGeometry(field:value:expectation:)`` naming
    ///   the first value that is out of range.
    public init(
        width: Int, height: Int, physicalWidthMillimetres: Double, physicalHeightMillimetres: Double,
        viewingDistanceMetres: Double
    ) throws(LayoutError) {
        // Smaller than this and not even the hard floor's single line fits.
        guard (48...8192).contains(width) else {
            throw .invalidGeometry(field: "width", value: "\(width)", expectation: "48 to 8192 pixels")
        }
        guard (48...8192).contains(height) else {
            throw .invalidGeometry(field: "height", value: "\(height)", expectation: "48 to 8192 pixels")
        }
        guard physicalWidthMillimetres.isFinite, physicalWidthMillimetres > 0 else {
            throw .invalidGeometry(
                field: "physicalWidthMillimetres", value: "\(physicalWidthMillimetres)",
                expectation: "a positive length in millimetres")
        }
        guard physicalHeightMillimetres.isFinite, physicalHeightMillimetres > 0 else {
            throw .invalidGeometry(
                field: "physicalHeightMillimetres", value: "\(physicalHeightMillimetres)",
                expectation: "a positive length in millimetres")
        }
        guard viewingDistanceMetres.isFinite, (0.1...100).contains(viewingDistanceMetres) else {
            throw .invalidGeometry(
                field: "viewingDistanceMetres", value: "\(viewingDistanceMetres)",
                expectation: "0.1 to 100 metres")
        }
        self.width = width
        self.height = height
        self.physicalWidthMillimetres = physicalWidthMillimetres
        self.physicalHeightMillimetres = physicalHeightMillimetres
        self.viewingDistanceMetres = viewingDistanceMetres
    }

    /// The briefing's XDB: 98 cm square, here as a 256 x 256 LED matrix read from 10 m.
    public static let xdbDefault = try! BoardGeometry(
        width: 256, height: 256, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
        viewingDistanceMetres: 10)
    /// The briefing's AIOP: 21 x 15.8 cm, an 800 x 600 LCD read from the cab window at 1 m.
    public static let aiopDefault = try! BoardGeometry(
        width: 800, height: 600, physicalWidthMillimetres: 210, physicalHeightMillimetres: 158,
        viewingDistanceMetres: 1)

    /// The default geometry of `kind`.
    public static func standard(for kind: BoardKind) -> BoardGeometry {
        kind == .xdb ? xdbDefault : aiopDefault
    }

    public var size: Size { Size(width: width, height: height) }

    /// Millimetres per pixel, vertically (text height is what legibility is about).
    public var pixelPitchMillimetres: Double { physicalHeightMillimetres / Double(height) }

    /// Metres of viewing distance per millimetre of em the driver needs: 5 mm of
    /// em per metre. That puts a Latin capital (0.73 em in Noto Sans) at about
    /// 1 inch per 23 feet, close to the 1 inch per 25 to 30 feet that signage
    /// guidance asks for, and gives Han characters, whose strokes are denser
    /// than Latin letters, their full em.
    public static let legibleEmMillimetresPerMetre = 5.0

    /// Below this many pixels of em a Han character's strokes run together
    /// (bitmap CJK fonts stop at 12 to 16 pixels), whatever the distance.
    public static let smallestLegiblePixels = 14

    /// The size layouts shrink to, flagged, rather than clip text; reached only
    /// when a board is too small for its viewing distance.
    public static let hardFloorPixels = 10

    /// The smallest em, in pixels, the driver can read at the viewing distance:
    /// every text on the board is at least this large unless the layout reports
    /// ``LayoutProblem/belowLegibleSize(role:size:minimum:)``.
    public var minimumLegibleTextSize: Int {
        let em = viewingDistanceMetres * Self.legibleEmMillimetresPerMetre / pixelPitchMillimetres
        return max(Self.smallestLegiblePixels, Int(em.rounded(.up)))
    }

    public var description: String {
        "\(width)x\(height) px, \(physicalWidthMillimetres / 10)x\(physicalHeightMillimetres / 10) cm, "
            + "read at \(viewingDistanceMetres) m"
    }
}

/// Bad layout input, named so a technician can fix the config.
public enum LayoutError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidGeometry(field: String, value: String, expectation: String)

    public var description: String {
        switch self {
        case .invalidGeometry(let field, let value, let expectation):
            "board geometry: \(field) is \(value); expected \(expectation)"
        }
    }
}
