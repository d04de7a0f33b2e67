import BoardLayout
import Foundation
import RoadCargo

@testable import Displays

/// The geometries every screen is checked on: each board's default, and a
/// second board of the same physical size with another pixel count.
enum TestGeometry: String, CaseIterable, CustomStringConvertible {
    case xdb256 = "xdb-256"
    /// A finer LED matrix (2.5 mm pitch) on the same 98 cm board.
    case xdb384 = "xdb-384"
    case aiop800 = "aiop-800x600"
    /// A lower-resolution LCD in the same 21 x 15.8 cm panel.
    case aiop640 = "aiop-640x480"

    var board: BoardKind { self == .xdb256 || self == .xdb384 ? .xdb : .aiop }

    var geometry: BoardGeometry {
        switch self {
        case .xdb256: .xdbDefault
        case .xdb384:
            try! BoardGeometry(
                width: 384, height: 384, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
                viewingDistanceMetres: 10)
        case .aiop800: .aiopDefault
        case .aiop640:
            try! BoardGeometry(
                width: 640, height: 480, physicalWidthMillimetres: 210, physicalHeightMillimetres: 158,
                viewingDistanceMetres: 1)
        }
    }

    var layouter: BoardLayouter { BoardLayouter(board: board, geometry: geometry) }

    /// The XDB shows Traditional Chinese and English whatever the AIOP's language.
    var languages: [BoardState.Language] {
        board == .xdb ? [.traditionalChinese] : BoardState.Language.allCases
    }

    var description: String { rawValue }
}

/// SDL, fonts and a headless renderer per test: SDL is reference-counted and
/// serialised inside Displays, and fonts cache measurements, so each test
/// keeps its own.
struct Rig {
    let context: SDLContext
    let fonts: FontSet

    init() throws {
        context = try SDLContext(videoDriver: "offscreen")
        fonts = try FontSet(context: context)
    }

    func renderer(_ geometry: TestGeometry) throws -> HeadlessBoardRenderer {
        try HeadlessBoardRenderer(layouter: geometry.layouter, fonts: fonts, context: context)
    }
}

/// Every kind of state a board can be asked to show: every phase, every
/// instruction with every reason, each with no overlays, with all of them at
/// once, and every officer phrase.
enum StateSpace {
    static let widestVRN = try! VRN("WWWWWWWW")
    static let longFreeText = String(repeating: "Wait for the officer at bay 12. ", count: 3)

    static var phases: [BoardState.Phase] {
        var phases: [BoardState.Phase] = [
            .closed, .welcome, .stop(awaitingUnladen: false), .stop(awaitingUnladen: true),
            .systemUnavailable,
        ]
        for instruction in Instruction.allCases {
            for reason in Reason.allCases {
                let earliest = reason == .earlyCrossing ? ScreenCatalogue.sampleEarliestCrossing : nil
                phases.append(.decided(instruction: instruction, reason: reason, earliestCrossing: earliest))
            }
        }
        return phases
    }

    static var states: [BoardState] {
        var states: [BoardState] = []
        for phase in phases {
            states.append(BoardState(phase: phase, vrn: widestVRN))
            states.append(
                BoardState(
                    phase: phase, vrn: widestVRN, unladenAcknowledged: true, help: .connected,
                    officerMessage: BoardState.OfficerMessage(phraseID: 3, text: longFreeText), offline: true,
                    linkDown: true))
            states.append(BoardState(phase: phase, unladenAcknowledged: true, help: .ringing, offline: true))
        }
        for phrase in OfficerPhrase.all {
            states.append(
                BoardState(
                    phase: .stop(awaitingUnladen: true), vrn: widestVRN, help: .connected,
                    officerMessage: BoardState.OfficerMessage(phraseID: phrase.id)))
        }
        return states
    }
}

extension RGBAImage {
    /// How many pixels in `area` satisfy `predicate`.
    func count(in area: Rect, where predicate: (RGBAColor) -> Bool) -> Int {
        var count = 0
        for y in max(0, area.origin.y)..<min(height, area.maxY) {
            for x in max(0, area.origin.x)..<min(width, area.maxX) where predicate(self[Point(x: x, y: y)]) {
                count += 1
            }
        }
        return count
    }
}

extension RGBAColor {
    /// Whether each channel is within `tolerance` of `other`'s.
    func isClose(to other: RGBAColor, tolerance: Int = 8) -> Bool {
        abs(Int(red) - Int(other.red)) <= tolerance && abs(Int(green) - Int(other.green)) <= tolerance
            && abs(Int(blue) - Int(other.blue)) <= tolerance
    }
}
