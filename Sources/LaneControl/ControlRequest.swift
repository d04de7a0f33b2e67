import AnyJSON
import Foundation

/// laned's control protocol (docs/control-socket.md): one JSON object per
/// line each way over a Unix stream socket. laned, lanectl and the tests
/// build and read its lines from these types only, so there is one copy of
/// the commands, their fields, their results and the error codes.
public enum ControlProtocol {
    /// The protocol's version. The wire carries no version field (scripts
    /// and `socat` users speak it as documented); a change to a command, a
    /// field or a result that an older peer would misread bumps this number
    /// and docs/control-socket.md together.
    public static let version = 1

    /// Request lines longer than this are refused and the connection closed.
    public static let maximumRequestLine = 64 * 1024
}

/// Every command laned accepts, in the order the docs and the
/// `unknown_command` message list them.
public enum ControlCommand: String, CaseIterable, Codable, Sendable {
    case status, press, arrive, leave, open, close, journal, screenshot, clock

    /// The request fields the command reads, besides `id` and `command`.
    public var fields: [String] {
        switch self {
        case .status, .leave: []
        case .press: ["button", "action"]
        case .arrive: ["vrn", "wait_ms"]
        case .open, .close: ["officer"]
        case .journal: ["limit", "after"]
        case .screenshot: ["board"]
        case .clock: ["offset_seconds"]
        }
    }

    /// Inputs that enter the lane as a GPIO edge or a reader arrival would:
    /// refused unless the config sets `control.allow_virtual_inputs`, before
    /// their fields are looked at.
    public var isVirtualInput: Bool {
        switch self {
        case .press, .arrive, .leave: true
        case .status, .open, .close, .journal, .screenshot, .clock: false
        }
    }

    /// The command a request object names; `bad_request` when `command` is
    /// missing or not a string, `unknown_command` when laned has no such command.
    public init(request object: [String: JSONValue]) throws(ControlFailure) {
        guard case .string(let name)? = object["command"] else {
            throw ControlFailure(.badRequest, "field 'command' is missing or not a string")
        }
        guard let command = ControlCommand(rawValue: name) else {
            let known = ControlCommand.allCases.map(\.rawValue).joined(separator: ", ")
            throw ControlFailure(.unknownCommand, "unknown command '\(name)'; commands: \(known)")
        }
        self = command
    }
}

/// The lane's two buttons, as `press` names them.
public enum ControlButton: String, CaseIterable, Codable, Sendable {
    case unladen, help
}

/// What `press` does to the button; `click` presses then releases.
public enum ControlPressAction: String, CaseIterable, Codable, Sendable {
    case press, release, click
}

/// The lane's two boards, as `screenshot` names them.
public enum ControlBoard: String, CaseIterable, Codable, Sendable {
    case xdb, aiop
}

/// One request with its arguments.
///
/// Optional members keep the defaults laned has always applied: a missing
/// `action` clicks, a missing `officer` is `lanectl`, a missing `limit` is 20.
/// As before the protocol was typed, a member of the wrong JSON type where a
/// default exists counts as missing (a number for `action` clicks); where no
/// default exists it is a `bad_request` naming the field.
public enum ControlRequest: Sendable, Hashable {
    case status
    case press(button: ControlButton, action: ControlPressAction = .click)
    /// The plate as read; laned normalises it (`invalid_vrn` when it cannot).
    /// With `waitMilliseconds`, laned replies once the vehicle's decision (or
    /// rule 4) is on both boards, or when that long has passed.
    case arrive(vrn: String, waitMilliseconds: Int? = nil)
    case leave
    case open(officer: String? = nil)
    case close(officer: String? = nil)
    /// Without `after` the newest `limit` entries, with it the first `limit`
    /// entries after that sequence number; oldest first either way.
    case journal(limit: Int? = nil, after: Int64? = nil)
    case screenshot(board: ControlBoard)
    /// Without `offsetSeconds`, the lane's clock and its offset; with it, the
    /// clock stepped to the host's time plus that many seconds (a virtual
    /// input: a fault campaign's clock step).
    case clock(offsetSeconds: Int64? = nil)

    /// The largest clock offset either way: 7 days.
    public static let clockOffsetLimit: Int64 = 7 * 24 * 3600
    public static let defaultOfficer = "lanectl"
    public static let defaultJournalLimit = 20
    public static let journalLimits = 1...1000
    /// `arrive`'s `wait_ms`: up to a minute, past any decision timeout a
    /// lane is configured with, so a waiting client is never held longer.
    public static let arriveWaits = 1...60_000

    public var command: ControlCommand {
        switch self {
        case .status: .status
        case .press: .press
        case .arrive: .arrive
        case .leave: .leave
        case .open: .open
        case .close: .close
        case .journal: .journal
        case .screenshot: .screenshot
        case .clock: .clock
        }
    }

    /// Reads `command`'s members from a request object; a `ControlFailure`
    /// with the message laned answers when one is wrong.
    public init(_ command: ControlCommand, _ object: [String: JSONValue]) throws(ControlFailure) {
        switch command {
        case .status: self = .status
        case .leave: self = .leave
        case .press:
            guard case .string(let raw)? = object["button"], let button = ControlButton(rawValue: raw) else {
                throw ControlFailure(.badRequest, "field 'button' must be unladen or help")
            }
            var action = ControlPressAction.click
            if case .string(let raw)? = object["action"] {
                guard let named = ControlPressAction(rawValue: raw) else {
                    throw ControlFailure(
                        .badRequest, "field 'action' must be press, release or click, not '\(raw)'")
                }
                action = named
            }
            self = .press(button: button, action: action)
        case .arrive:
            guard case .string(let vrn)? = object["vrn"] else {
                throw ControlFailure(.badRequest, "field 'vrn' is missing or not a string")
            }
            guard let raw = object["wait_ms"], raw != .null else {
                self = .arrive(vrn: vrn)
                return
            }
            guard let wait = raw.exactInteger.flatMap({ Int(exactly: $0) }), Self.arriveWaits.contains(wait)
            else {
                throw ControlFailure(
                    .badRequest,
                    "field 'wait_ms' must be a whole number of milliseconds from 1 to 60000, not \(raw.rendered(pretty: false))"
                )
            }
            self = .arrive(vrn: vrn, waitMilliseconds: wait)
        case .open, .close:
            let officer = object["officer"]?.string
            self = command == .open ? .open(officer: officer) : .close(officer: officer)
        case .journal:
            let limit = object["limit"]?.exactInteger.flatMap { Int(exactly: $0) }
            guard Self.journalLimits.contains(limit ?? Self.defaultJournalLimit) else {
                throw ControlFailure(.badRequest, "field 'limit' must be between 1 and 1000")
            }
            self = .journal(limit: limit, after: object["after"]?.truncatedInteger)
        case .screenshot:
            guard case .string(let raw)? = object["board"], let board = ControlBoard(rawValue: raw) else {
                throw ControlFailure(.badRequest, "field 'board' must be xdb or aiop")
            }
            self = .screenshot(board: board)
        case .clock:
            guard let raw = object["offset_seconds"], raw != .null else {
                self = .clock()
                return
            }
            guard let seconds = raw.exactInteger, abs(seconds) <= Self.clockOffsetLimit else {
                throw ControlFailure(
                    .badRequest,
                    "field 'offset_seconds' must be a whole number of seconds from -\(Self.clockOffsetLimit) to \(Self.clockOffsetLimit) (7 days), not \(raw.rendered(pretty: false))"
                )
            }
            self = .clock(offsetSeconds: seconds)
        }
    }

    /// Whether the request changes the lane as a virtual input does: the
    /// virtual inputs, and a `clock` that steps the clock (reading it does not).
    public var isVirtualInput: Bool {
        if case .clock(let offset) = self { return offset != nil }
        return command.isVirtualInput
    }

    /// The request's members as they go on the wire, `command` included.
    public var members: [String: JSONValue] {
        var members: [String: JSONValue] = ["command": .string(command.rawValue)]
        switch self {
        case .status, .leave: break
        case .press(let button, let action):
            members["button"] = .string(button.rawValue)
            members["action"] = .string(action.rawValue)
        case .arrive(let vrn, let wait):
            members["vrn"] = .string(vrn)
            if let wait { members["wait_ms"] = .integer(Int64(wait)) }
        case .open(let officer), .close(let officer):
            if let officer { members["officer"] = .string(officer) }
        case .journal(let limit, let after):
            if let limit { members["limit"] = .integer(Int64(limit)) }
            if let after { members["after"] = .integer(after) }
        case .screenshot(let board): members["board"] = .string(board.rawValue)
        case .clock(let offset):
            if let offset { members["offset_seconds"] = .integer(offset) }
        }
        return members
    }

    /// One request line, newline included, as lanectl sends it.
    public func line(id: JSONValue) -> String {
        var members = self.members
        members["id"] = id
        return JSONValue.object(members).rendered(pretty: false) + "\n"
    }
}

/// One request line taken apart: the `id` to echo and the request, or the
/// refusal to answer with that `id`.
public struct ControlRequestLine: Sendable {
    /// The client's `id`, any JSON value; nil when it sent none (answered as `null`).
    public var id: JSONValue?
    public var command: ControlCommand
    public var object: [String: JSONValue]

    /// Reads the envelope: a JSON object with a known `command`. The failure
    /// carries the `id` when the line got that far.
    public static func parse(_ line: [UInt8]) -> Result<ControlRequestLine, ControlRefusal> {
        let data = Data(line)
        guard case .object(let object)? = JSONValue.parse(data) else {
            // JSONSerialization decides what is JSON and says why not, word
            // for word as laned did before the types (fragments are not JSON).
            do { _ = try JSONSerialization.jsonObject(with: data) } catch {
                return .failure(
                    ControlRefusal(
                        id: nil, ControlFailure(.badRequest, "not JSON: \(error.localizedDescription)")))
            }
            return .failure(
                ControlRefusal(id: nil, ControlFailure(.badRequest, "a request must be a JSON object")))
        }
        do throws(ControlFailure) {
            let command = try ControlCommand(request: object)
            return .success(ControlRequestLine(id: object["id"], command: command, object: object))
        } catch {
            return .failure(ControlRefusal(id: object["id"], error))
        }
    }

    /// The request's members, checked.
    public func request() throws(ControlFailure) -> ControlRequest {
        try ControlRequest(command, object)
    }

    /// Whether the request needs `control.allow_virtual_inputs`, decided
    /// before its fields are checked: a virtual input, or a `clock` that
    /// carries `offset_seconds`.
    public var needsVirtualInputs: Bool {
        command.isVirtualInput || (command == .clock && object["offset_seconds"].map { $0 != .null } == true)
    }
}

extension JSONValue {
    /// A JSON number with no fraction, as an integer.
    fileprivate var exactInteger: Int64? {
        switch self {
        case .integer(let value): value
        case .number(let value) where value == value.rounded() && abs(value) < 9e15: Int64(value)
        default: nil
        }
    }

    /// Any JSON number, its fraction dropped.
    fileprivate var truncatedInteger: Int64? {
        switch self {
        case .integer(let value): value
        case .number(let value) where abs(value) < 9e18: Int64(value)
        default: nil
        }
    }
}
