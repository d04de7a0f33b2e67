import RoadCargo

/// What a lane says when it opens a session: the protocol versions it speaks,
/// which lane it is, and the optional features it supports.
public struct SessionHello: Sendable, Hashable {
    /// Every protocol version the lane speaks; order does not matter.
    public var versions: [UInt16]
    public var laneID: LaneID
    /// Optional features by name (`"offline-cache"`, `"help-video"`); central
    /// answers with the ones both sides have.
    public var capabilities: Set<String>

    public init(versions: [UInt16], laneID: LaneID, capabilities: Set<String> = []) {
        self.versions = versions
        self.laneID = laneID
        self.capabilities = capabilities
    }
}

/// Central's acceptance of a hello.
public struct SessionWelcome: Sendable, Hashable {
    /// The highest version both sides speak; the session uses it throughout.
    public var version: UInt16
    /// The capabilities both sides have.
    public var capabilities: Set<String>

    public init(version: UInt16, capabilities: Set<String> = []) {
        self.version = version
        self.capabilities = capabilities
    }
}

/// Central's refusal of a hello. The lane ends the session and reconnects
/// later (with backoff); a refusal is not retried any sooner than a failure.
public struct SessionRefusal: Sendable, Hashable, Error {
    /// Why central refused. Raw values are part of the wire format.
    public enum Reason: UInt8, Sendable, Hashable {
        /// Central does not know the lane (no key, decommissioned) or the lane
        /// id does not match the key that signed the frames.
        case unknownLane = 1
        /// No version in the hello is one central speaks.
        case noCommonVersion = 2
        /// The hello could not be decoded.
        case malformedHello = 3
        /// Central is shutting down or over capacity; try again later.
        case unavailable = 4
    }

    public var reason: Reason
    /// A sentence for logs on the lane; never interpreted.
    public var detail: String

    public init(_ reason: Reason, detail: String = "") {
        self.reason = reason
        self.detail = detail
    }
}

/// How the handshake payloads (hello, welcome, refuse) become bytes and back.
///
/// The session machine only needs the decoded values; the byte layout belongs
/// to the message codec (see `docs/link-protocol.md`). Keeping the coding as a
/// witness lets the machine be tested, and run, before and apart from that
/// codec: plug the codec's functions in here. ``interim`` is a small layout of
/// this module's own, documented in `docs/link-reliability.md`.
public struct SessionHandshakeCoding: Sendable {
    public var encodeHello: @Sendable (SessionHello) -> [UInt8]
    /// Returns nil when the bytes are not a valid hello.
    public var decodeHello: @Sendable ([UInt8]) -> SessionHello?
    public var encodeWelcome: @Sendable (SessionWelcome) -> [UInt8]
    public var decodeWelcome: @Sendable ([UInt8]) -> SessionWelcome?
    public var encodeRefusal: @Sendable (SessionRefusal) -> [UInt8]
    public var decodeRefusal: @Sendable ([UInt8]) -> SessionRefusal?

    public init(
        encodeHello: @escaping @Sendable (SessionHello) -> [UInt8],
        decodeHello: @escaping @Sendable ([UInt8]) -> SessionHello?,
        encodeWelcome: @escaping @Sendable (SessionWelcome) -> [UInt8],
        decodeWelcome: @escaping @Sendable ([UInt8]) -> SessionWelcome?,
        encodeRefusal: @escaping @Sendable (SessionRefusal) -> [UInt8],
        decodeRefusal: @escaping @Sendable ([UInt8]) -> SessionRefusal?
    ) {
        self.encodeHello = encodeHello
        self.decodeHello = decodeHello
        self.encodeWelcome = encodeWelcome
        self.decodeWelcome = decodeWelcome
        self.encodeRefusal = encodeRefusal
        self.decodeRefusal = decodeRefusal
    }

    /// A length-prefixed layout of this module's own, until the message codec
    /// supplies its functions. Strings are UTF-8 with a u8 length, lists have a
    /// u8 count, integers are big-endian; capabilities are sorted so the same
    /// value always gives the same bytes.
    public static let interim = SessionHandshakeCoding(
        encodeHello: { hello in
            var out = SessionByteWriter()
            out.list(hello.versions) { $0.u16($1) }
            out.string(hello.laneID.value)
            out.list(hello.capabilities.sorted()) { $0.string($1) }
            return out.bytes
        },
        decodeHello: { bytes in
            var input = SessionByteReader(bytes)
            guard let versions = input.list({ $0.u16() }), let lane = input.string(),
                let capabilities = input.list({ $0.string() }), input.atEnd,
                let laneID = try? LaneID(lane)
            else { return nil }
            return SessionHello(versions: versions, laneID: laneID, capabilities: Set(capabilities))
        },
        encodeWelcome: { welcome in
            var out = SessionByteWriter()
            out.u16(welcome.version)
            out.list(welcome.capabilities.sorted()) { $0.string($1) }
            return out.bytes
        },
        decodeWelcome: { bytes in
            var input = SessionByteReader(bytes)
            guard let version = input.u16(), let capabilities = input.list({ $0.string() }), input.atEnd
            else { return nil }
            return SessionWelcome(version: version, capabilities: Set(capabilities))
        },
        encodeRefusal: { refusal in
            var out = SessionByteWriter()
            out.bytes.append(refusal.reason.rawValue)
            out.string(refusal.detail)
            return out.bytes
        },
        decodeRefusal: { bytes in
            var input = SessionByteReader(bytes)
            guard let raw = input.u8(), let reason = SessionRefusal.Reason(rawValue: raw),
                let detail = input.string(), input.atEnd
            else { return nil }
            return SessionRefusal(reason, detail: detail)
        })
}

/// Appends big-endian integers and short strings; just enough for the
/// session's own payloads.
struct SessionByteWriter {
    var bytes: [UInt8] = []

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8((value >> UInt64(shift)) & 0xFF))
        }
    }

    /// At most 255 bytes of UTF-8, cut at a character boundary so the result
    /// still decodes; lane ids and capability names are far shorter.
    mutating func string(_ value: String) {
        var value = value
        while value.utf8.count > 255 { value.removeLast() }
        let utf8 = Array(value.utf8)
        bytes.append(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// At most 255 elements, for the same reason.
    mutating func list<T>(_ values: [T], _ element: (inout SessionByteWriter, T) -> Void) {
        let count = min(values.count, 255)
        bytes.append(UInt8(count))
        for value in values.prefix(count) { element(&self, value) }
    }
}

/// Reads what ``SessionByteWriter`` writes; every read returns nil past the end so a
/// truncated payload is refused, never trapped on.
struct SessionByteReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func u8() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u16() -> UInt16? {
        guard let high = u8(), let low = u8() else { return nil }
        return UInt16(high) << 8 | UInt16(low)
    }

    mutating func u64() -> UInt64? {
        guard bytes.count - index >= 8 else { return nil }
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(bytes[index]); index += 1 }
        return value
    }

    mutating func string() -> String? {
        guard let count = u8().map(Int.init), bytes.count - index >= count else { return nil }
        defer { index += count }
        return String(validating: bytes[index..<index + count], as: UTF8.self)
    }

    mutating func list<T>(_ element: (inout SessionByteReader) -> T?) -> [T]? {
        guard let count = u8() else { return nil }
        var values: [T] = []
        for _ in 0..<count {
            guard let value = element(&self) else { return nil }
            values.append(value)
        }
        return values
    }
}
