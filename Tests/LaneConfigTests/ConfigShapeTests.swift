import Foundation
import Testing

@testable import LaneConfig

/// Files that would crash or exhaust laned before any key is read: too big,
/// nested too deep (Yams composes recursively), or an alias bomb. Each is
/// refused with exit 78, naming the file and the limit.
@Suite("Lane config: size, nesting and alias limits")
struct ConfigShapeTests {
    let directory: ConfigDirectory

    init() throws { directory = try ConfigDirectory() }

    var file: String { directory.url.appendingPathComponent("lane.yaml").path }

    /// The 20 KB nested file that crashed laned with SIGSEGV, in its three forms.
    static let nested: [(name: String, yaml: String)] = [
        ("flow lists", minimal + "deep: " + String(repeating: "[", count: 10_000) + "\n"),
        ("flow mappings", minimal + "deep: " + String(repeating: "{a: ", count: 5_000) + "\n"),
        (
            "block mappings",
            minimal + "deep:\n"
                + (1...200).map { String(repeating: " ", count: $0) + "k:\n" }.joined()
        ),
        ("block lists", minimal + "deep:\n" + String(repeating: "- ", count: 5_000) + "x\n"),
    ]

    @Test(arguments: nested.indices)
    func aDeeplyNestedFileIsRefusedBeforeParsingNamingTheFileAndTheLimit(_ index: Int) throws {
        let (name, yaml) = Self.nested[index]
        let error = try problems(yaml, in: directory)
        #expect(error.exitCode == 78)
        #expect(error.problems.count == 1, "\(name): \(error)")
        let text = error.problems.first?.description ?? ""
        #expect(text.hasPrefix("\(file):"), "\(name): \(text)")
        #expect(text.contains("nested deeper than 32 levels"), "\(name): \(text)")
        #expect(text.contains("the config nesting limit"), "\(name): \(text)")
    }

    @Test func nestingUpToTheLimitIsStillReadAsYAML() throws {
        // 31 lists inside the document's mapping: 32 levels, allowed; the
        // key is unknown, which proves the file got as far as being read.
        let error = try problems(
            minimal + "deep: " + String(repeating: "[", count: 31) + String(repeating: "]", count: 31) + "\n",
            in: directory)
        #expect(error.keys == ["deep"])
    }

    @Test func aFileOverTheSizeLimitIsRefusedUnread() throws {
        let big = minimal + "# " + String(repeating: "x", count: 70_000) + "\n"
        let error = try problems(big, in: directory)
        #expect(
            error.problems.map(\.description) == [
                "\(file): the file is \(big.utf8.count) bytes; expected at most 65536 bytes (the config size limit)"
            ])
        #expect(error.exitCode == 78)
    }

    @Test func aBillionLaughsAliasBombIsRefused() throws {
        var yaml = minimal + "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let aliases = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(aliases)]\n"
        }
        let error = try problems(yaml, in: directory)
        #expect(error.problems.count == 1, "\(error)")
        #expect(
            error.problems.first?.description.contains("more than 10000 values once its aliases are expanded")
                == true, "\(error)")
    }

    @Test func aFewAliasesAreStillAllowed() throws {
        let error = try problems(minimal + "x: &x [a, b]\ny: *x\n", in: directory)
        #expect(error.keys == ["x", "y"])
    }

    /// Table: the shape check alone, on text.
    @Test func theShapeCheckCountsDepthAndExpandedValues() {
        let limits = ConfigLimits(maxBytes: 100, maxDepth: 3, maxExpandedNodes: 10)
        let cases: [(String, ConfigShape.Violation?)] = [
            ("a: 1\n", nil),
            ("a: [[1]]\n", nil),
            ("a: [[[1]]]\n", .tooDeep(line: 1, column: 6, limit: 3)),
            ("a:\n  b:\n    c: 1\n", nil),
            ("a:\n  b:\n    c:\n      d: 1\n", .tooDeep(line: 4, column: 7, limit: 3)),
            ("a: &x [1, 2, 3]\nb: [*x, *x]\n", .tooManyNodes(line: 2, column: 5, limit: 10)),
            ("a: &x [1, 2]\nb: *x\n", nil),
            (String(repeating: "#", count: 101), .tooLarge(bytes: 101, limit: 100)),
            // Broken YAML is left to Yams, which names the place.
            ("a: [\n", nil),
        ]
        for (yaml, expected) in cases {
            #expect(ConfigShape.check(yaml, limits: limits) == expected, "\(yaml)")
        }
    }
}

/// Every value in a config file has a length limit in characters and in bytes.
@Suite("Lane config: value lengths")
struct ConfigValueLengthTests {
    @Test func aValueOverTheByteLimitIsRefusedNamingTheKeyAndBothLimits() throws {
        let directory = try ConfigDirectory()
        // 1000 characters (under 1024) of 5 bytes each: over 4096 bytes.
        let flood = String(repeating: "a\u{301}\u{301}", count: 1000)
        let error = try problems(
            minimal.replacingOccurrences(of: "/etc/lanekiosk/LMC-IN-01.key", with: "/etc/\(flood)"),
            in: directory)
        #expect(error.keys == ["link.key_file"], "\(error)")
        #expect(
            error.problems.first?.message
                == "expected a file path, at most 1024 characters and 4096 bytes of UTF-8; got a value that has "
                + "1005 characters and 5005 bytes", "\(error)")
    }
}
