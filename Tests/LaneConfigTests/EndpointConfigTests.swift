import Foundation
import Testing

@testable import LaneConfig

/// `link.tcp.endpoints`: central's nodes in order, beside the one node of
/// `link.tcp.host` and `link.tcp.port`.
@Suite("Lane config: central endpoints")
struct EndpointConfigTests {
    typealias Endpoint = LaneConfiguration.TCPEndpoint
    let directory: ConfigDirectory

    init() throws { directory = try ConfigDirectory() }

    var file: String { directory.url.appendingPathComponent("lane.yaml").path }

    /// `minimal` with its `link.tcp` mapping (lines 7 to 9) replaced by `tcp`.
    func withTCP(_ tcp: String) -> String {
        let single = "  tcp:\n    host: 127.0.0.1\n    port: 4711\n"
        precondition(minimal.contains(single))
        return minimal.replacingOccurrences(of: single, with: tcp)
    }

    func load(_ yaml: String) throws -> LaneConfiguration {
        try LaneConfiguration.load(path: try directory.write(yaml))
    }

    func only(_ yaml: String) throws -> String {
        let error = try problems(yaml, in: directory)
        #expect(error.problems.count == 1, "\(error)")
        #expect(error.exitCode == 78)
        return error.problems.first?.description ?? ""
    }

    @Test func theOldFormIsOneEndpoint() throws {
        let config = try load(minimal)
        #expect(config.link.transport == .tcp([Endpoint(host: "127.0.0.1", port: 4711)]))
        #expect(config.link.transport == .tcp(host: "127.0.0.1", port: 4711))
        let flat = Dictionary(uniqueKeysWithValues: config.flattened)
        #expect(flat["link.tcp.host"] == "127.0.0.1" && flat["link.tcp.port"] == "4711")
        #expect(flat["link.tcp.endpoints"] == nil)
    }

    @Test func aListGivesTheNodesInOrder() throws {
        let config = try load(
            withTCP(
                "  tcp:\n    endpoints: [central-b.lmc.example:4711, \"10.0.0.5:4712\", \"[fd00::5]:4713\"]\n"
            ))
        #expect(
            config.link.transport
                == .tcp([
                    Endpoint(host: "central-b.lmc.example", port: 4711),
                    Endpoint(host: "10.0.0.5", port: 4712),
                    Endpoint(host: "fd00::5", port: 4713),
                ]))
        let flat = Dictionary(uniqueKeysWithValues: config.flattened)
        #expect(flat["link.tcp.endpoints"] == "[central-b.lmc.example:4711, 10.0.0.5:4712, [fd00::5]:4713]")
        #expect(flat["link.tcp.host"] == nil && flat["link.tcp.port"] == nil)
    }

    @Test func aBlockListReadsTheSameAndOneEntryEqualsTheOldForm() throws {
        let block = try load(
            withTCP("  tcp:\n    endpoints:\n      - central-a:4711\n      - central-b:4711\n"))
        #expect(
            block.link.transport
                == .tcp([Endpoint(host: "central-a", port: 4711), Endpoint(host: "central-b", port: 4711)]))
        let one = try load(withTCP("  tcp:\n    endpoints: [\"127.0.0.1:4711\"]\n"))
        #expect(one.link.transport == (try load(minimal)).link.transport)
    }

    @Test func bothFormsAtOnceAreRefused() throws {
        #expect(
            try only(withTCP("  tcp:\n    host: 127.0.0.1\n    endpoints: [a:1, b:2]\n"))
                == "\(file):7:5: link.tcp: both link.tcp.endpoints and link.tcp.host/port are given; expected one "
                + "of them: endpoints (central's nodes in order) or host and port (one node)")
    }

    @Test func aBadEntryIsNamedByItsPlaceInTheList() throws {
        let expected =
            "expected host:port, such as central-a:4711, 10.0.0.5:4711 or \"[fd00::5]:4711\" (an IPv6 address "
            + "in brackets, quoted), with a port from 1 to 65535"
        #expect(
            try only(withTCP("  tcp:\n    endpoints: [central-a:4711, central-b]\n"))
                == "\(file):7:33: link.tcp.endpoints[1]: \(expected); got \"central-b\"")
        for bad in [
            "central-a:0", "central-a:70000", "central-a:47x1", "::1:4711", "[::1]4711", "central a:1",
            ":4711",
        ] {
            let text = try only(withTCP("  tcp:\n    endpoints: [\"\(bad)\"]\n"))
            #expect(text.hasSuffix("link.tcp.endpoints[0]: \(expected); got \"\(bad)\""), "\(bad)")
        }
    }

    @Test func theSameEndpointTwiceIsRefused() throws {
        #expect(
            try only(withTCP("  tcp:\n    endpoints: [a:4711, b:4711, a:4711]\n"))
                == "\(file):7:33: link.tcp.endpoints[2]: a:4711 is also link.tcp.endpoints[0]; expected each "
                + "endpoint once")
    }

    @Test func theListIsBounded() throws {
        let nine = (1...9).map { "n\($0):4711" }.joined(separator: ", ")
        #expect(
            try only(withTCP("  tcp:\n    endpoints: [\(nine)]\n"))
                == "\(file):7:16: link.tcp.endpoints: expected at most 8 endpoints (the limit on central's nodes "
                + "a lane tries); got 9")
        let eight = (1...8).map { "n\($0):4711" }.joined(separator: ", ")
        guard
            case .tcp(let endpoints) = try load(withTCP("  tcp:\n    endpoints: [\(eight)]\n")).link.transport
        else {
            Issue.record("expected tcp")
            return
        }
        #expect(endpoints.count == 8)
    }

    @Test func anEmptyListOrAScalarIsRefused() throws {
        let expected =
            "expected a list of 1 to 8 central endpoints, each host:port, such as "
            + "[central-a:4711, central-b:4711]"
        #expect(
            try only(withTCP("  tcp:\n    endpoints: []\n"))
                == "\(file):7:16: link.tcp.endpoints: \(expected); got an empty list")
        #expect(
            try only(withTCP("  tcp:\n    endpoints: central-a:4711\n"))
                == "\(file):7:16: link.tcp.endpoints: \(expected); got \"central-a:4711\"")
    }

    @Test func neitherFormSaysWhatIsMissing() throws {
        let error = try problems(withTCP("  tcp: {}\n"), in: directory)
        #expect(error.keys == ["link.tcp.host", "link.tcp.port"])
    }

    @Test(arguments: [
        ("central-a:4711", Endpoint(host: "central-a", port: 4711)),
        ("10.1.2.3:1", Endpoint(host: "10.1.2.3", port: 1)),
        ("[::1]:65535", Endpoint(host: "::1", port: 65535)),
        ("[2001:db8::10]:4711", Endpoint(host: "2001:db8::10", port: 4711)),
        ("Central_A.lmc.example:4711", Endpoint(host: "Central_A.lmc.example", port: 4711)),
    ])
    func endpointsParseAndPrintBack(text: String, endpoint: Endpoint) {
        #expect(Endpoint(parsing: text) == endpoint)
        #expect(endpoint.description == text)
    }

    @Test(arguments: [
        "", "host", "host:", ":1", "host:0", "host:65536", "host:+1", "host:1.0", "host:00000001", "[::1]",
        "[::1]:", "[]:1", "[zz::1]:1", "[10.0.0.1]:1", "::1:4711", "a b:1", "héllo:1", "a/b:1",
        String(repeating: "a", count: 254) + ":1",
    ])
    func anythingElseIsNotAnEndpoint(text: String) {
        #expect(Endpoint(parsing: text) == nil, "\(text)")
    }
}
