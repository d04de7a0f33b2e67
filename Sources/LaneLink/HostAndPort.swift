import Foundation

/// `HOST:PORT` as a command line gives it, with `[v6]:PORT` accepted: what
/// `linkprobe --tcp` dials and what `lineproxy` listens on and forwards to.
public struct HostAndPort: Sendable, Hashable {
    public var host: String
    public var port: Int

    /// Nil when `raw` has no host, no port, or a port outside 1...65535
    /// (0...65535 with `allowingPortZero`, for "any free port").
    public init?(_ raw: String, allowingPortZero: Bool = false) {
        guard let colon = raw.lastIndex(of: ":"), let port = Int(raw[raw.index(after: colon)...]),
            ((allowingPortZero ? 0 : 1)...65_535).contains(port)
        else { return nil }
        host = String(raw[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
        guard !host.isEmpty else { return nil }
    }
}
