import AnyJSON
import Foundation

/// The control protocol of `lineproxy` (docs/lineproxy.md): one JSON object
/// per line each way over a Unix stream socket, in the framing and envelope
/// of laned's control socket (docs/control-socket.md). The executable, its
/// tests and anything written in Swift that drives it read and write lines
/// through these types only.
public enum LineProxyCommand: Sendable, Hashable {
    /// Replaces the impairment model of one direction or both.
    case impair(directions: [LineDirection], model: LineImpairment)
    /// A perfect line both ways.
    case clear
    case cut, restore, blackhole, heal, status

    /// Request lines longer than this are refused and the connection closed.
    public static let maximumLine = 64 * 1024

    /// Every command's name and the members it takes besides `id` and `command`.
    public static let names: [(name: String, members: [String])] = [
        ("impair", ["direction", "model"]), ("clear", []), ("cut", []), ("restore", []),
        ("blackhole", []), ("heal", []), ("status", []),
    ]

    /// The members a `model` object may have, in the order the docs list them.
    public static let modelMembers = [
        "drop", "duplicate", "reorder", "garbage", "bit_flip", "delay", "delay_ms", "chunk", "garbage_bytes",
    ]

    /// Reads one request line: the `id` to echo (nil when absent) and the
    /// command, or the refusal to answer with that `id`.
    public static func parse(_ line: [UInt8]) -> (id: JSONValue?, Result<LineProxyCommand, LineProxyFailure>)
    {
        guard case .object(let object)? = JSONValue.parse(Data(line)) else {
            let text = String(decoding: line.prefix(80), as: UTF8.self)
            return (nil, .failure(.badRequest("not a JSON object: '\(text)'")))
        }
        do throws(LineProxyFailure) {
            return (object["id"], .success(try LineProxyCommand(object)))
        } catch {
            return (object["id"], .failure(error))
        }
    }

    /// Checks a request object's command and members.
    public init(_ object: [String: JSONValue]) throws(LineProxyFailure) {
        guard case .string(let name)? = object["command"] else {
            throw .badRequest("field 'command' is missing or not a string")
        }
        guard let members = Self.names.first(where: { $0.name == name })?.members else {
            let known = Self.names.map(\.name).joined(separator: ", ")
            throw LineProxyFailure(
                code: "unknown_command", message: "unknown command '\(name)'; commands: \(known)")
        }
        for key in object.keys.sorted() where !(["id", "command"] + members).contains(key) {
            let takes =
                members.isEmpty ? "no other fields" : members.map { "'\($0)'" }.joined(separator: ", ")
            throw .badRequest("unknown field '\(key)': \(name) takes \(takes)")
        }
        switch name {
        case "impair":
            self = .impair(
                directions: try Self.directions(object["direction"]), model: try Self.model(object["model"]))
        case "clear": self = .clear
        case "cut": self = .cut
        case "restore": self = .restore
        case "blackhole": self = .blackhole
        case "heal": self = .heal
        default: self = .status
        }
    }

    private static func directions(_ value: JSONValue?) throws(LineProxyFailure) -> [LineDirection] {
        switch value?.string {
        case "both": return [.laneToCentral, .centralToLane]
        case "lane_to_central": return [.laneToCentral]
        case "central_to_lane": return [.centralToLane]
        default:
            throw .badRequest(
                "field 'direction' must be both, lane_to_central or central_to_lane, not \(value?.rendered(pretty: false) ?? "missing")"
            )
        }
    }

    /// A `model` object as an impairment; missing members are 0 or none.
    static func model(_ value: JSONValue?) throws(LineProxyFailure) -> LineImpairment {
        guard case .object(let members)? = value else {
            throw .badRequest("field 'model' must be an object, e.g. {\"drop\": 0.01}")
        }
        for key in members.keys.sorted() where !modelMembers.contains(key) {
            throw .badRequest(
                "unknown field 'model.\(key)'; a model has \(modelMembers.joined(separator: ", "))")
        }
        func probability(_ key: String) throws(LineProxyFailure) -> Double {
            guard let member = members[key] else { return 0 }
            guard let value = member.double, (0...1).contains(value) else {
                throw .badRequest(
                    "field 'model.\(key)' must be a probability from 0 to 1, not \(member.rendered(pretty: false))"
                )
            }
            return value
        }
        func range(_ key: String, _ bounds: ClosedRange<Double>, unit: String) throws(LineProxyFailure)
            -> ClosedRange<Double>?
        {
            guard let member = members[key], member != .null else { return nil }
            guard let pair = member.array, pair.count == 2, let low = pair[0].double,
                let high = pair[1].double,
                bounds.contains(low), bounds.contains(high), low <= high
            else {
                throw .badRequest(
                    "field 'model.\(key)' must be [low, high] \(unit) with \(Int(bounds.lowerBound)) <= low <= high <= \(Int(bounds.upperBound)), not \(member.rendered(pretty: false))"
                )
            }
            return low...high
        }
        func whole(_ range: ClosedRange<Double>?, _ key: String) throws(LineProxyFailure) -> ClosedRange<Int>?
        {
            guard let range else { return nil }
            guard range.lowerBound.rounded() == range.lowerBound,
                range.upperBound.rounded() == range.upperBound
            else { throw .badRequest("field 'model.\(key)' must hold whole numbers of bytes") }
            return Int(range.lowerBound)...Int(range.upperBound)
        }
        let delay = try range("delay_ms", 0...60_000, unit: "milliseconds").map {
            Duration.microseconds(Int64($0.lowerBound * 1000)) ... .microseconds(Int64($0.upperBound * 1000))
        }
        return LineImpairment(
            bitFlipPerByte: try probability("bit_flip"), dropChunk: try probability("drop"),
            duplicateChunk: try probability("duplicate"), garbageBeforeChunk: try probability("garbage"),
            garbageLength: try whole(range("garbage_bytes", 1...4096, unit: "bytes"), "garbage_bytes")
                ?? LineImpairment.none.garbageLength,
            delayChunk: try probability("delay"), delay: delay ?? LineImpairment.none.delay,
            reorderChunk: try probability("reorder"),
            chunkSize: try whole(range("chunk", 1...65_536, unit: "bytes"), "chunk"))
    }

    /// The request line for this command, newline included.
    public func line(id: JSONValue? = nil) -> String {
        var members: [String: JSONValue] = [:]
        if let id { members["id"] = id }
        switch self {
        case .impair(let directions, let model):
            members["command"] = .string("impair")
            members["direction"] = .string(
                directions.count == 1 ? LineProxyStatus.name(directions[0]) : "both")
            members["model"] = LineModelDescription(model).json
        case .clear: members["command"] = .string("clear")
        case .cut: members["command"] = .string("cut")
        case .restore: members["command"] = .string("restore")
        case .blackhole: members["command"] = .string("blackhole")
        case .heal: members["command"] = .string("heal")
        case .status: members["command"] = .string("status")
        }
        return JSONValue.object(members).rendered(pretty: false) + "\n"
    }
}

/// Why `lineproxy` refused a request: `bad_request` (the message names the
/// field), `unknown_command` or `internal`.
public struct LineProxyFailure: Error, Sendable, Hashable, Codable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> LineProxyFailure {
        LineProxyFailure(code: "bad_request", message: message)
    }
}

/// A model as the control protocol spells it (probabilities, milliseconds,
/// byte counts), for `status` and for request lines built in Swift.
public struct LineModelDescription: Codable, Sendable, Hashable {
    public var drop: Double
    public var duplicate: Double
    public var reorder: Double
    public var garbage: Double
    public var bitFlip: Double
    public var delay: Double
    public var delayMs: [Double]
    /// Nil: reads pass whole.
    public var chunk: [Int]?
    public var garbageBytes: [Int]

    public init(_ model: LineImpairment) {
        drop = model.dropChunk
        duplicate = model.duplicateChunk
        reorder = model.reorderChunk
        garbage = model.garbageBeforeChunk
        bitFlip = model.bitFlipPerByte
        delay = model.delayChunk
        delayMs = [model.delay.lowerBound, model.delay.upperBound].map { $0 / .microseconds(1) / 1000 }
        chunk = model.chunkSize.map { [$0.lowerBound, $0.upperBound] }
        garbageBytes = [model.garbageLength.lowerBound, model.garbageLength.upperBound]
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "drop": .number(drop), "duplicate": .number(duplicate), "reorder": .number(reorder),
            "garbage": .number(garbage), "bit_flip": .number(bitFlip), "delay": .number(delay),
            "delay_ms": .array(delayMs.map { .number($0) }),
            "garbage_bytes": .array(garbageBytes.map { .integer(Int64($0)) }),
        ]
        if let chunk { members["chunk"] = .array(chunk.map { .integer(Int64($0)) }) }
        return .object(members)
    }
}

/// The answer to every command: the proxy as it is after the command.
public struct LineProxyStatus: Codable, Sendable, Hashable {
    /// `cut`, `blackhole` or `ok`; a cut line that is also blackholed says `cut`.
    public var state: String
    public var cut: Bool
    public var blackhole: Bool
    /// Where lanes connect and where their connections go, `host:port`.
    public var listen: String
    public var target: String
    public var connections: Connections
    public var laneToCentral: Direction
    public var centralToLane: Direction

    public struct Connections: Codable, Sendable, Hashable {
        public var open: Int
        public var forwarded: Int
        public var refused: Int
    }

    public struct Direction: Codable, Sendable, Hashable {
        public var model: LineModelDescription
        public var counters: LineCounters
    }

    public init(_ proxy: NoisyLineProxy) {
        cut = proxy.isCut
        blackhole = proxy.isBlackholed
        state = cut ? "cut" : blackhole ? "blackhole" : "ok"
        listen = proxy.address
        target = proxy.target
        connections = Connections(
            open: proxy.openConnections, forwarded: proxy.connectionsForwarded,
            refused: proxy.connectionsRefused)
        laneToCentral = Direction(
            model: LineModelDescription(proxy.impairment(.laneToCentral)),
            counters: proxy.counters(.laneToCentral))
        centralToLane = Direction(
            model: LineModelDescription(proxy.impairment(.centralToLane)),
            counters: proxy.counters(.centralToLane))
    }

    static func name(_ direction: LineDirection) -> String {
        direction == .laneToCentral ? "lane_to_central" : "central_to_lane"
    }
}

/// One response line, `{"id": ..., "ok": true, "result": {...}}` or
/// `{"id": ..., "ok": false, "error": {"code": ..., "message": ...}}`, keys
/// sorted and in snake case.
public enum LineProxyResponse: Sendable {
    case status(id: JSONValue?, LineProxyStatus)
    case failure(id: JSONValue?, LineProxyFailure)

    private struct Envelope<Result: Codable>: Codable {
        var id: JSONValue
        var ok: Bool
        var result: Result?
        var error: LineProxyFailure?
    }

    /// The line, newline excluded.
    public var bytes: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data: Data?
        switch self {
        case .status(let id, let status):
            data = try? encoder.encode(Envelope(id: id ?? .null, ok: true, result: status, error: nil))
        case .failure(let id, let failure):
            data = try? encoder.encode(
                Envelope<LineProxyStatus>(id: id ?? .null, ok: false, result: nil, error: failure))
        }
        // Numbers, strings and a JSONValue always encode.
        return Array(data ?? Data("{}".utf8))
    }

    /// Reads a response line; nil when it is not one.
    public static func parse(_ line: [UInt8]) -> LineProxyResponse? {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let envelope = try? decoder.decode(Envelope<LineProxyStatus>.self, from: Data(line)) else {
            return nil
        }
        if envelope.ok, let result = envelope.result { return .status(id: envelope.id, result) }
        if let error = envelope.error { return .failure(id: envelope.id, error) }
        return nil
    }
}

extension NoisyLineProxy {
    /// Carries out one control request line and returns the response line,
    /// newline excluded. Never throws: a bad line gets a refusal.
    public func respond(to line: [UInt8]) async -> [UInt8] {
        let (id, parsed) = LineProxyCommand.parse(line)
        switch parsed {
        case .failure(let failure): return LineProxyResponse.failure(id: id, failure).bytes
        case .success(let command): await perform(command)
        }
        return LineProxyResponse.status(id: id, LineProxyStatus(self)).bytes
    }

    /// Carries out one command.
    public func perform(_ command: LineProxyCommand) async {
        switch command {
        case .impair(let directions, let model):
            for direction in directions { setImpairment(model, for: direction) }
        case .clear:
            for direction in LineDirection.allCases { setImpairment(.none, for: direction) }
        case .cut: await cut()
        case .restore: restore()
        case .blackhole: blackhole()
        case .heal: heal()
        case .status: break
        }
    }
}

extension JSONValue {
    /// Any JSON number as a Double (finite by JSON's grammar).
    fileprivate var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }
}
