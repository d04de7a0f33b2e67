import Foundation
import ShimmedChildSupport
import Testing

/// Runs an async test body in a child copy of the test binary with the
/// serial-pty shim preloaded, so that the real libserialport opens ptys
/// (docs/serial-testing.md; ShimmedChildSupport's PreloadShim does the
/// building, filtering, marker and timeout).
enum ShimmedChild {
    static let shim = PreloadShim(name: "serial-pty") {
        FileManager.default.isReadableFile(atPath: "/dev/ptmx")
            ? nil : "no /dev/ptmx: this machine cannot make pseudo-terminals"
    }

    /// In the parent: re-runs the calling test in a shimmed child and reports
    /// its failure here. In the child: runs `body`.
    static func run(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async throws {
        try await shim.run(sourceLocation: sourceLocation, body)
    }
}
