import Foundation
import Yams

// `link.tcp.endpoints`: central's nodes in the order the lane tries them
// (docs/lane-config.md, "Failover").
extension ConfigReader {
    /// The list at `link.tcp.endpoints` in `t`: nil when absent (no
    /// problem) or wrong (a problem naming the entry).
    mutating func tcpEndpoints(_ t: inout Table) -> [LaneConfiguration.TCPEndpoint]? {
        typealias Endpoint = LaneConfiguration.TCPEndpoint
        let descriptor = K.linkTCPEndpoints
        let key = String(descriptor.name.split(separator: ".").last ?? "")
        assert(t.path(key) == descriptor.name, "\(descriptor.name) read at \(t.path(key))")
        guard let node = t.take(key) else { return nil }
        let expected =
            "a list of 1 to \(Endpoint.maxCount) central endpoints, each host:port, such as "
            + "[central-a:4711, central-b:4711]"
        guard case .sequence(let list) = node else {
            problem(t.path(key), at: node, "expected \(expected); got \(Self.describe(node))")
            return nil
        }
        guard !list.isEmpty else {
            problem(t.path(key), at: node, "expected \(expected); got an empty list")
            return nil
        }
        guard list.count <= Endpoint.maxCount else {
            problem(
                t.path(key), at: node,
                "expected at most \(Endpoint.maxCount) endpoints (the limit on central's nodes a lane "
                    + "tries); got \(list.count)")
            return nil
        }
        var endpoints: [Endpoint] = []
        var firstAt: [Endpoint: Int] = [:]
        var good = true
        for (index, item) in list.enumerated() {
            let at = "\(t.path(key))[\(index)]"
            guard let endpoint = read(item, at: at, Self.endpointKind) else {
                good = false
                continue
            }
            if let first = firstAt[endpoint] {
                problem(
                    at, at: item,
                    "\(endpoint) is also \(t.path(key))[\(first)]; expected each endpoint once")
                good = false
                continue
            }
            firstAt[endpoint] = index
            endpoints.append(endpoint)
        }
        return good ? endpoints : nil
    }

    /// One entry: `host:port`, or `[IPv6]:port`. An IPv6 address without
    /// brackets is refused: its last colon cannot be told from the port's.
    static let endpointKind = Kind<LaneConfiguration.TCPEndpoint>(
        expected: "host:port, such as central-a:4711, 10.0.0.5:4711 or \"[fd00::5]:4711\" (an IPv6 "
            + "address in brackets, quoted), with a port from 1 to 65535",
        type: "`host:port`", show: \.description
    ) { s in
        LaneConfiguration.TCPEndpoint(parsing: s.string)
    }
}
