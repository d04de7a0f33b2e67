import Testing

@testable import BoardLayout

@Suite struct PictogramTests {
    static let all: [Pictogram] = [
        .laneOpen, .laneClosed, .stop, .tick, .toCompound(.left), .toCompound(.right), .dropManifest, .clock,
        .unladenButton(pressed: false), .unladenButton(pressed: true), .bell, .officer, .message, .offline,
        .linkDown,
    ]

    /// Renderers fill each polygon as a triangle fan, which is only right for convex polygons.
    @Test(arguments: all)
    func everyPolygonIsConvexAndInsideItsFrame(pictogram: Pictogram) {
        let frame = Rect(x: 10, y: 20, width: 100, height: 60)
        let shapes = pictogram.shapes(in: frame)
        #expect(!shapes.isEmpty)
        #expect(shapes.contains { $0.ink == .primary })
        for shape in shapes {
            #expect(shape.points.count >= 3)
            var signs = Set<Bool>()
            for index in shape.points.indices {
                let a = shape.points[index]
                let b = shape.points[(index + 1) % shape.points.count]
                let c = shape.points[(index + 2) % shape.points.count]
                let cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x)
                if abs(cross) > 1e-9 { signs.insert(cross > 0) }
            }
            #expect(signs.count == 1, "\(pictogram) has a concave polygon")
            // Centred in the largest square of the frame: 60 x 60 from x = 30.
            for point in shape.points {
                #expect(point.x >= 29.99 && point.x <= 90.01 && point.y >= 19.99 && point.y <= 80.01)
            }
        }
    }

    @Test func theCompoundArrowMirrors() {
        let frame = Rect(x: 0, y: 0, width: 100, height: 100)
        let right = Pictogram.toCompound(.right).shapes(in: frame).flatMap(\.points)
        let left = Pictogram.toCompound(.left).shapes(in: frame).flatMap(\.points)
        #expect(right.map(\.x).max()! > 90 && left.map(\.x).min()! < 10)
        let rounded = { (point: PointF) in [Int((point.x * 1000).rounded()), Int((point.y * 1000).rounded())]
        }
        #expect(Set(right.map { rounded(PointF(x: 100 - $0.x, y: $0.y)) }) == Set(left.map(rounded)))
    }
}
