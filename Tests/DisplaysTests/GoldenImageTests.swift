import BoardLayout
import Foundation
import Testing

@testable import Displays

/// Every screen of ``ScreenCatalogue``, in every language and on every test
/// geometry, compared with a golden PNG under `Goldens/<geometry>/`.
///
/// Regenerate after an intended change with `scripts/regenerate-goldens.sh`
/// (which runs this suite with `LANEKIOSK_REGENERATE_GOLDENS=1`); it also
/// rewrites the README's pictures in `docs/screens/`. Look at the new images
/// before committing them.
@Suite struct GoldenImageTests {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Goldens")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var regenerating: Bool {
        ProcessInfo.processInfo.environment["LANEKIOSK_REGENERATE_GOLDENS"] == "1"
    }

    /// The README's pictures: these screens on the default geometries.
    static let documented: Set<String> = [
        "xdb-welcome", "xdb-stop", "xdb-cleared", "xdb-inspect", "aiop-welcome-en", "aiop-stop-en",
        "aiop-cleared-en", "aiop-inspect-en", "aiop-inspect-early-crossing-zh-Hant",
        "aiop-inspect-early-crossing-zh-Hans",
    ]

    /// Anti-aliasing may differ between FreeType builds: a pixel counts as
    /// different only beyond this channel difference, and a frame fails only
    /// when more than 1 in 500 pixels differ.
    static let channelTolerance = 48
    static let differingPixelsAllowed = 1.0 / 500

    static func goldenNames(_ geometry: TestGeometry) -> [(name: String, state: BoardState)] {
        ScreenCatalogue.screens.filter { $0.boards.contains(geometry.board) }.flatMap { screen in
            geometry.languages.map { language in
                let suffix = geometry.board == .xdb ? "" : "-\(language.rawValue)"
                return ("\(screen.name)\(suffix)", screen.state(in: language))
            }
        }
    }

    @Test(arguments: TestGeometry.allCases)
    func screensMatchTheirGoldens(geometry: TestGeometry) throws {
        let rig = try Rig()
        let renderer = try rig.renderer(geometry)
        let directory = Self.goldens.appendingPathComponent(geometry.rawValue)
        if Self.regenerating {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        for (name, state) in Self.goldenNames(geometry) {
            try renderer.show(state)
            let image = try #require(try renderer.snapshot())
            let url = directory.appendingPathComponent("\(name).png")
            if Self.regenerating {
                try Data(image.pngData()).write(to: url)
                let documentedName = "\(geometry.board.rawValue)-\(name)"
                if Self.documented.contains(documentedName)
                    && geometry.geometry == .standard(for: geometry.board)
                {
                    let screens = Self.repository.appendingPathComponent("docs/screens")
                    try FileManager.default.createDirectory(at: screens, withIntermediateDirectories: true)
                    try Data(image.pngData()).write(
                        to: screens.appendingPathComponent("\(documentedName).png"))
                }
                continue
            }
            guard let golden = FileManager.default.contents(atPath: url.path) else {
                Issue.record("no golden \(url.path); run scripts/regenerate-goldens.sh and review the images")
                continue
            }
            let expected = try DecodedPNG(Array(golden)).image
            if let difference = Self.difference(image, expected) {
                let saved = try Self.saveFailure(image, geometry: geometry, name: name)
                Issue.record("\(geometry) \(name): \(difference); the new frame is in \(saved)")
            }
        }
    }

    /// A golden nobody renders any more is a screen that was dropped or renamed.
    @Test(arguments: TestGeometry.allCases)
    func everyGoldenIsStillRendered(geometry: TestGeometry) throws {
        let directory = Self.goldens.appendingPathComponent(geometry.rawValue)
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        let expected = Set(Self.goldenNames(geometry).map { "\($0.name).png" })
        #expect(present.subtracting(expected).isEmpty, "stale goldens in \(directory.path)")
    }

    /// The comparison itself notices a change a driver would see.
    @Test func aChangedFrameIsNoticed() throws {
        let rig = try Rig()
        let renderer = try rig.renderer(.xdb256)
        try renderer.show(BoardState(phase: .welcome))
        let welcome = try #require(try renderer.snapshot())
        try renderer.show(BoardState(phase: .closed))
        let closed = try #require(try renderer.snapshot())
        #expect(Self.difference(welcome, welcome) == nil)
        #expect(Self.difference(welcome, closed) != nil)
    }

    /// `nil` when the two frames match within the tolerance; otherwise why not.
    static func difference(_ actual: RGBAImage, _ expected: RGBAImage) -> String? {
        guard actual.width == expected.width && actual.height == expected.height else {
            return "size \(actual.width)x\(actual.height), golden \(expected.width)x\(expected.height)"
        }
        var differing = 0
        var largest = 0
        var offset = 0
        while offset < actual.pixels.count {
            var pixelDifference = 0
            for channel in 0..<4 {
                pixelDifference = max(
                    pixelDifference,
                    abs(Int(actual.pixels[offset + channel]) - Int(expected.pixels[offset + channel])))
            }
            if pixelDifference > channelTolerance { differing += 1 }
            largest = max(largest, pixelDifference)
            offset += 4
        }
        let allowed = Int(Double(actual.width * actual.height) * differingPixelsAllowed)
        guard differing > allowed else { return nil }
        return
            "\(differing) pixels differ by more than \(channelTolerance) (allowed \(allowed)); largest difference \(largest)"
    }

    private static func saveFailure(_ image: RGBAImage, geometry: TestGeometry, name: String) throws -> String
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lanekiosk-golden-failures/\(geometry.rawValue)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(name).png")
        try Data(image.pngData()).write(to: url)
        return url.path
    }
}
