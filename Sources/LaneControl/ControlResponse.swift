import AnyJSON
import Foundation

/// The error codes a refusal carries.
public enum ControlErrorCode: String, CaseIterable, Codable, Sendable {
    /// Not JSON, not an object, or a missing or ill-typed field (the message names it).
    case badRequest = "bad_request"
    case unknownCommand = "unknown_command"
    /// A virtual input on a lane whose config does not allow them.
    case notAllowed = "not_allowed"
    case invalidVRN = "invalid_vrn"
    /// The lane is not in a state for it, e.g. closing a closed lane.
    case laneState = "lane_state"
    case `internal`
}

/// Why laned refused a request: a code for scripts, a sentence for people.
public struct ControlFailure: Error, Sendable, Hashable, Codable {
    /// The code as sent; a code this version does not know stays readable here.
    public var code: String
    public var message: String

    public init(_ code: ControlErrorCode, _ message: String) {
        self.code = code.rawValue
        self.message = message
    }

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The code, when it is one of the documented ones.
    public var known: ControlErrorCode? { ControlErrorCode(rawValue: code) }
}

/// A refusal with the `id` it answers (nil before the line yielded one).
public struct ControlRefusal: Error, Sendable {
    public var id: JSONValue?
    public var failure: ControlFailure

    public init(id: JSONValue?, _ failure: ControlFailure) {
        self.id = id
        self.failure = failure
    }
}

/// A response line: `{"id": ..., "ok": true, "result": {...}}` or
/// `{"id": ..., "ok": false, "error": {"code": ..., "message": ...}}`, keys sorted.
public enum ControlResponse {
    /// The success line for `id`, newline excluded.
    public static func success(id: JSONValue?, result: some Encodable) throws -> [UInt8] {
        try encode(Success(id: id ?? .null, result: result))
    }

    /// The failure line for `id`, newline excluded.
    public static func failure(id: JSONValue?, _ failure: ControlFailure) -> [UInt8] {
        // Strings and a JSONValue always encode.
        (try? encode(Failure(id: id ?? .null, error: failure))) ?? Array("{}".utf8)
    }

    /// What a client reads from a response line.
    public enum Reading: Sendable {
        /// `ok` true: the result object (`{}` when the line has none).
        case result(id: JSONValue?, JSONValue)
        /// `ok` false: laned's refusal.
        case refused(id: JSONValue?, ControlFailure)
        /// A JSON object without a boolean `ok`.
        case noOK(id: JSONValue?)
        /// Not a JSON object.
        case notAnObject

        /// The `id` the line answers; nil when it has none or is not an object.
        public var id: JSONValue? {
            switch self {
            case .result(let id, _), .refused(let id, _), .noOK(let id): id
            case .notAnObject: nil
            }
        }
    }

    /// Reads a response line. The result stays a `JSONValue` so that a client
    /// can hand on members newer than it knows; decode it with `result(_:from:)`.
    public static func read(_ line: [UInt8]) -> Reading {
        guard let response = JSONValue.parse(Data(line)), response.object != nil else {
            return .notAnObject
        }
        switch response["ok"] {
        case .bool(true):
            return .result(id: response["id"], response["result"] ?? .object([:]))
        case .bool(false):
            return .refused(
                id: response["id"],
                ControlFailure(
                    code: response["error"]?["code"]?.string ?? "unknown",
                    message: response["error"]?["message"]?.string ?? "(no message)"))
        default:
            return .noOK(id: response["id"])
        }
    }

    /// A result read back into its type.
    public static func result<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(value.rendered(pretty: false).utf8))
    }

    private struct Success<Result: Encodable>: Encodable {
        var id: JSONValue
        var ok = true
        var result: Result
    }

    private struct Failure: Encodable {
        var id: JSONValue
        var ok = false
        var error: ControlFailure
    }

    private static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [UInt8](try encoder.encode(value))
    }
}

/// The result of `press`, `leave`, `open` and `close`: `{}`.
public struct ControlEmptyResult: Codable, Sendable, Hashable {
    public init() {}
}

/// The result of `arrive`: the plate as the lane normalised it, and the
/// decision request it sent (absent when none was sent).
public struct ControlArriveResult: Codable, Sendable, Hashable {
    public var vrn: String
    public var requestID: UInt64?
    /// With `wait_ms`: what both boards showed for the vehicle when laned
    /// replied; nil without it, or when nothing was decided in time.
    public var shown: Shown?

    /// The decision (or rule 4's STOP) on the boards, as `status` names it.
    public struct Shown: Codable, Sendable, Hashable {
        public var xdb: String
        public var aiop: String
        public var reason: String
        /// Hong Kong time, whole seconds; EARLY_CROSSING only.
        public var earliestCrossing: String?

        public init(xdb: String, aiop: String, reason: String, earliestCrossing: String? = nil) {
            self.xdb = xdb
            self.aiop = aiop
            self.reason = reason
            self.earliestCrossing = earliestCrossing
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case xdb, aiop, reason, earliestCrossing = "earliest_crossing"
        }
    }

    public init(vrn: String, requestID: UInt64?, shown: Shown? = nil) {
        self.vrn = vrn
        self.requestID = requestID
        self.shown = shown
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case vrn, requestID = "request_id", shown
    }
}

/// The result of `journal`.
public struct ControlJournalResult: Codable, Sendable, Hashable {
    public var entries: [ControlJournalEntry]

    public init(entries: [ControlJournalEntry]) { self.entries = entries }
}

/// The result of `screenshot`: the board's PNG, base64.
public struct ControlScreenshotResult: Codable, Sendable, Hashable {
    public var pngBase64: String

    public init(png: Data) { pngBase64 = png.base64EncodedString() }

    /// The PNG bytes; nil when `png_base64` is not base64.
    public var png: Data? { Data(base64Encoded: pngBase64) }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case pngBase64 = "png_base64"
    }
}

/// The result of `clock`: the lane's time now (Hong Kong, whole seconds)
/// and the offset added to the host's clock; after a step, also the offset
/// it replaced.
public struct ControlClockResult: Codable, Sendable, Hashable {
    public var now: String
    public var offsetSeconds: Int64
    /// Present when the request stepped the clock.
    public var previousOffsetSeconds: Int64?

    public init(now: String, offsetSeconds: Int64, previousOffsetSeconds: Int64? = nil) {
        self.now = now
        self.offsetSeconds = offsetSeconds
        self.previousOffsetSeconds = previousOffsetSeconds
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case now, offsetSeconds = "offset_seconds", previousOffsetSeconds = "previous_offset_seconds"
    }
}
