import Foundation

/// A point with sub-pixel precision, for pictogram outlines.
public struct PointF: Sendable, Hashable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// One filled convex polygon of a pictogram. Every pictogram is a stack of
/// these, so that a renderer needs nothing but a triangle fan.
public struct PictogramShape: Sendable, Hashable {
    /// Which of the pictogram's two colours fills the polygon.
    public enum Ink: Sendable, Hashable {
        /// The pictogram's own colour (the instruction's colour on a board).
        case primary
        /// The contrast colour: a cut-out or inner detail.
        case secondary
    }

    /// The corners, in order; the polygon is convex.
    public var points: [PointF]
    public var ink: Ink
}

/// Which way the Customs Examination Compound lies from the lane.
public enum CompoundSide: String, Sendable, Hashable, CaseIterable, Codable {
    case left
    case right
}

/// The shapes that say what colour also says, so that the boards work for
/// colour-blind drivers and on single-colour LED boards. Each instruction has
/// its own silhouette: an arrow down into the lane (open), a cross (closed), an
/// octagon (stop), a ringed tick (cleared), a bent arrow (to the compound) and a
/// document going into a box (manifest).
public enum Pictogram: Sendable, Hashable {
    /// WELCOME: an arrow pointing down into the lane, as lane-control signals show an open lane.
    case laneOpen
    /// CLOSED: a diagonal cross, as lane-control signals show a closed lane.
    case laneClosed
    /// STOP: an octagon with an inner border.
    case stop
    /// CLEARED: a tick in a ring.
    case tick
    /// INSPECT: an arrow that turns towards the compound.
    case toCompound(CompoundSide)
    /// DROP_MANIFEST: a document dropping into a box.
    case dropManifest
    /// The earliest crossing time.
    case clock
    /// The Unladen Vehicle button: a ring with a dot, filled once pressed.
    case unladenButton(pressed: Bool)
    /// A help call is ringing.
    case bell
    /// An officer is on the intercom: a head and shoulders with a headset.
    case officer
    /// A message from the officer: a speech bubble.
    case message
    /// Offline mode: a ring struck through.
    case offline
    /// The link to central is down: a broken line.
    case linkDown

    /// The pictogram drawn in the largest square centred in `frame`, back to front.
    public func shapes(in frame: Rect) -> [PictogramShape] {
        let side = Double(min(frame.size.width, frame.size.height))
        let left = Double(frame.origin.x) + (Double(frame.size.width) - side) / 2
        let top = Double(frame.origin.y) + (Double(frame.size.height) - side) / 2
        return unitShapes.map { shape in
            PictogramShape(
                points: shape.points.map { PointF(x: left + $0.x * side, y: top + $0.y * side) },
                ink: shape.ink)
        }
    }

    /// The shapes in a unit square, y pointing down.
    private var unitShapes: [PictogramShape] {
        let centre = PointF(x: 0.5, y: 0.5)
        switch self {
        case .laneOpen:
            return [
                box(0.40, 0.06, 0.60, 0.55),
                polygon([(0.14, 0.50), (0.86, 0.50), (0.5, 0.94)]),
            ]
        case .laneClosed:
            return [
                segment(PointF(x: 0.14, y: 0.14), PointF(x: 0.86, y: 0.86), width: 0.17),
                segment(PointF(x: 0.86, y: 0.14), PointF(x: 0.14, y: 0.86), width: 0.17),
            ]
        case .stop:
            let outer = regularPolygon(centre, radius: 0.5, sides: 8, rotation: .pi / 8)
            let borderOuter = regularPolygon(centre, radius: 0.43, sides: 8, rotation: .pi / 8)
            let borderInner = regularPolygon(centre, radius: 0.37, sides: 8, rotation: .pi / 8)
            return [PictogramShape(points: outer, ink: .primary)]
                + band(outer: borderOuter, inner: borderInner, ink: .secondary)
        case .tick:
            return ring(centre, outer: 0.48, inner: 0.40)
                + [
                    segment(PointF(x: 0.27, y: 0.52), PointF(x: 0.44, y: 0.69), width: 0.10),
                    segment(PointF(x: 0.44, y: 0.69), PointF(x: 0.75, y: 0.33), width: 0.10),
                    PictogramShape(
                        points: regularPolygon(PointF(x: 0.44, y: 0.69), radius: 0.05, sides: 12),
                        ink: .primary),
                ]
        case .toCompound(let side):
            let shapes = [
                box(0.20, 0.30, 0.38, 0.94),
                box(0.20, 0.30, 0.62, 0.48),
                polygon([(0.60, 0.10), (0.92, 0.39), (0.60, 0.68)]),
            ]
            guard side == .left else { return shapes }
            return shapes.map { shape in
                PictogramShape(
                    points: shape.points.reversed().map { PointF(x: 1 - $0.x, y: $0.y) }, ink: shape.ink)
            }
        case .dropManifest:
            return [
                box(0.30, 0.04, 0.70, 0.50),
                box(0.37, 0.13, 0.63, 0.17, ink: .secondary),
                box(0.37, 0.23, 0.63, 0.27, ink: .secondary),
                box(0.37, 0.33, 0.56, 0.37, ink: .secondary),
                polygon([(0.38, 0.54), (0.62, 0.54), (0.5, 0.68)]),
                box(0.10, 0.62, 0.19, 0.96),
                box(0.81, 0.62, 0.90, 0.96),
                box(0.10, 0.87, 0.90, 0.96),
            ]
        case .clock:
            return ring(centre, outer: 0.48, inner: 0.39)
                + [
                    segment(centre, PointF(x: 0.5, y: 0.20), width: 0.08),
                    segment(centre, PointF(x: 0.72, y: 0.5), width: 0.08),
                    PictogramShape(points: regularPolygon(centre, radius: 0.07, sides: 12), ink: .primary),
                ]
        case .unladenButton(let pressed):
            return ring(centre, outer: 0.48, inner: 0.36)
                + [
                    PictogramShape(
                        points: regularPolygon(centre, radius: pressed ? 0.28 : 0.10, sides: 24),
                        ink: .primary)
                ]
        case .bell:
            return [
                polygon([
                    (0.30, 0.36), (0.36, 0.22), (0.5, 0.16), (0.64, 0.22), (0.70, 0.36), (0.78, 0.70),
                    (0.22, 0.70),
                ]),
                box(0.14, 0.68, 0.86, 0.77),
                PictogramShape(
                    points: regularPolygon(PointF(x: 0.5, y: 0.85), radius: 0.07, sides: 12), ink: .primary),
                PictogramShape(
                    points: regularPolygon(PointF(x: 0.5, y: 0.14), radius: 0.05, sides: 10), ink: .primary),
                segment(PointF(x: 0.17, y: 0.30), PointF(x: 0.06, y: 0.22), width: 0.05),
                segment(PointF(x: 0.83, y: 0.30), PointF(x: 0.94, y: 0.22), width: 0.05),
            ]
        case .officer:
            let shoulders = (0...16).map { step -> PointF in
                let angle = Double.pi + Double(step) * Double.pi / 16
                return PointF(x: 0.5 + 0.40 * cos(angle), y: 0.98 + 0.40 * sin(angle))
            }
            let band = (0...8).map { step -> PointF in
                let angle = Double.pi + Double(step) * Double.pi / 8
                return PointF(x: 0.5 + 0.23 * cos(angle), y: 0.33 + 0.23 * sin(angle))
            }
            return [
                PictogramShape(points: shoulders, ink: .primary),
                PictogramShape(
                    points: regularPolygon(PointF(x: 0.5, y: 0.33), radius: 0.18, sides: 24), ink: .primary),
            ]
                + zip(band, band.dropFirst()).map { segment($0, $1, width: 0.045) }
                + [
                    box(0.23, 0.28, 0.30, 0.44),
                    box(0.70, 0.28, 0.77, 0.44),
                    segment(PointF(x: 0.27, y: 0.44), PointF(x: 0.42, y: 0.52), width: 0.04),
                ]
        case .message:
            return [
                box(0.06, 0.12, 0.94, 0.68),
                polygon([(0.22, 0.66), (0.44, 0.66), (0.20, 0.90)]),
                box(0.18, 0.24, 0.82, 0.30, ink: .secondary),
                box(0.18, 0.37, 0.82, 0.43, ink: .secondary),
                box(0.18, 0.50, 0.60, 0.56, ink: .secondary),
            ]
        case .offline:
            return ring(centre, outer: 0.48, inner: 0.37)
                + [segment(PointF(x: 0.22, y: 0.78), PointF(x: 0.78, y: 0.22), width: 0.11)]
        case .linkDown:
            return [
                box(0.04, 0.42, 0.38, 0.58),
                box(0.62, 0.42, 0.96, 0.58),
                segment(PointF(x: 0.42, y: 0.80), PointF(x: 0.58, y: 0.20), width: 0.09),
            ]
        }
    }
}

private func polygon(_ corners: [(Double, Double)], ink: PictogramShape.Ink = .primary) -> PictogramShape {
    PictogramShape(points: corners.map { PointF(x: $0.0, y: $0.1) }, ink: ink)
}

private func box(
    _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, ink: PictogramShape.Ink = .primary
) -> PictogramShape {
    polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], ink: ink)
}

/// A straight stroke of `width` from `a` to `b`, as a quadrilateral.
private func segment(_ a: PointF, _ b: PointF, width: Double, ink: PictogramShape.Ink = .primary)
    -> PictogramShape
{
    let length = max(1e-9, ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot())
    let nx = -(b.y - a.y) / length * width / 2
    let ny = (b.x - a.x) / length * width / 2
    return PictogramShape(
        points: [
            PointF(x: a.x + nx, y: a.y + ny), PointF(x: b.x + nx, y: b.y + ny),
            PointF(x: b.x - nx, y: b.y - ny), PointF(x: a.x - nx, y: a.y - ny),
        ], ink: ink)
}

private func regularPolygon(_ centre: PointF, radius: Double, sides: Int, rotation: Double = 0) -> [PointF] {
    (0..<sides).map { index in
        let angle = rotation + Double(index) * 2 * .pi / Double(sides)
        return PointF(x: centre.x + radius * cos(angle), y: centre.y + radius * sin(angle))
    }
}

/// The band between two polygons with corresponding corners, as one quadrilateral per side.
private func band(outer: [PointF], inner: [PointF], ink: PictogramShape.Ink) -> [PictogramShape] {
    outer.indices.map { index in
        let next = (index + 1) % outer.count
        return PictogramShape(points: [outer[index], outer[next], inner[next], inner[index]], ink: ink)
    }
}

private func ring(_ centre: PointF, outer: Double, inner: Double) -> [PictogramShape] {
    band(
        outer: regularPolygon(centre, radius: outer, sides: 40),
        inner: regularPolygon(centre, radius: inner, sides: 40), ink: .primary)
}
