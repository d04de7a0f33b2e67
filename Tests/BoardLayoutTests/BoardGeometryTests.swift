import Testing

@testable import BoardLayout

@Suite struct BoardGeometryTests {
    @Test func defaultsAreTheBriefingsBoards() {
        #expect(BoardGeometry.xdbDefault.size == Size(width: 256, height: 256))
        #expect(BoardGeometry.xdbDefault.physicalWidthMillimetres == 980)
        #expect(BoardGeometry.aiopDefault.size == Size(width: 800, height: 600))
        #expect(BoardGeometry.aiopDefault.physicalHeightMillimetres == 158)
        #expect(BoardGeometry.standard(for: .xdb) == .xdbDefault)
    }

    /// 5 mm of em per metre of distance, never below 14 pixels.
    @Test func legibleSizeFollowsDistanceAndPixelPitch() throws {
        #expect(BoardGeometry.xdbDefault.minimumLegibleTextSize == 14)
        #expect(BoardGeometry.aiopDefault.minimumLegibleTextSize == 19)
        let far = try BoardGeometry(
            width: 256, height: 256, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
            viewingDistanceMetres: 20)
        #expect(far.minimumLegibleTextSize == 27)
        let fine = try BoardGeometry(
            width: 512, height: 512, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
            viewingDistanceMetres: 20)
        #expect(fine.minimumLegibleTextSize == 53)
    }

    @Test func badValuesAreNamed() {
        #expect(
            throws: LayoutError.invalidGeometry(field: "width", value: "0", expectation: "48 to 8192 pixels")
        ) {
            try BoardGeometry(
                width: 0, height: 256, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
                viewingDistanceMetres: 10)
        }
        let error = #expect(throws: LayoutError.self) {
            try BoardGeometry(
                width: 256, height: 256, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
                viewingDistanceMetres: -1)
        }
        #expect(
            error?.description == "board geometry: viewingDistanceMetres is -1.0; expected 0.1 to 100 metres")
        #expect(throws: LayoutError.self) {
            try BoardGeometry(
                width: 256, height: 256, physicalWidthMillimetres: .nan, physicalHeightMillimetres: 980,
                viewingDistanceMetres: 10)
        }
    }
}
