import Foundation
import RoadCargo

extension LinkCapabilities {
    /// The bits for the session layer's capability names; names this
    /// version has no bit for are left out (they cannot travel).
    public init(names: Set<String>) {
        self = Self.names.reduce(into: []) { caps, entry in
            if names.contains(entry.1) { caps.insert(entry.0) }
        }
    }

    /// The session layer's names for the known bits that are set.
    public var names: Set<String> {
        Set(Self.names.compactMap { contains($0.0) ? $0.1 : nil })
    }
}

extension SessionHandshakeCoding {
    /// The handshake payloads as docs/link-protocol.md lays them out, for
    /// ``LinkSession``: plug this in instead of ``interim``.
    ///
    /// `clock` stamps central's time into each welcome. The session's
    /// welcome value has no field for that time, so the lane side drops it
    /// here; decode the packet with ``LaneMessage`` to read it.
    public static func wire(clock: any WallClock) -> SessionHandshakeCoding {
        SessionHandshakeCoding(
            encodeHello: { hello in
                encode(
                    .hello(
                        LinkHello(
                            versions: hello.versions, laneID: hello.laneID,
                            capabilities: LinkCapabilities(names: hello.capabilities))))
            },
            decodeHello: { bytes in
                guard case .hello(let h)? = try? LaneMessage(kind: .hello, payload: bytes) else { return nil }
                return SessionHello(
                    versions: h.versions, laneID: h.laneID, capabilities: h.capabilities.names)
            },
            encodeWelcome: { welcome in
                encode(
                    .welcome(
                        LinkWelcome(
                            version: welcome.version,
                            capabilities: LinkCapabilities(names: welcome.capabilities),
                            centralTime: clock.now())))
            },
            decodeWelcome: { bytes in
                guard case .welcome(let w)? = try? LaneMessage(kind: .welcome, payload: bytes) else {
                    return nil
                }
                return SessionWelcome(version: w.version, capabilities: w.capabilities.names)
            },
            encodeRefusal: { refusal in
                var text = refusal.detail
                while text.utf8.count > 1000 { text.removeLast() }
                return encode(.refuse(LinkRefuse(code: refusal.reason.rawValue, text: text)))
            },
            decodeRefusal: { bytes in
                guard case .refuse(let r)? = try? LaneMessage(kind: .refuse, payload: bytes),
                    let reason = SessionRefusal.Reason(rawValue: r.code)
                else { return nil }
                return SessionRefusal(reason, detail: r.text)
            })
    }

    /// Handshake values always fit their fields (a hello lists at most a
    /// few versions; refusal text is cut to 1,000 bytes above), so an
    /// encoding failure is a programming error.
    private static func encode(_ message: LaneMessage) -> [UInt8] {
        do { return try message.encode() } catch {
            preconditionFailure("handshake does not encode: \(error)")
        }
    }
}
