import ClearanceCore
import Foundation
import GPIO
import RoadCargo
import Yams

/// A scenario file (docs/scenarios.md): a control point, a start time, and
/// steps that drive it and say what the lanes must show.
public struct Scenario: Sendable {
    public var file: String
    public var name: String
    public var start: Date
    public var lanes: [Lane]
    public var phase: ImplementationPhase
    public var ladenRate: Double
    public var unladenRate: Double
    public var decisionTimeout: Duration
    public var unladenGrace: Duration
    public var steps: [Step]

    /// One step and the line it is on.
    public struct Step: Sendable {
        public var line: Int
        public var action: Action
        /// What the step says, as written (for reports).
        public var text: String
    }

    public enum Action: Sendable {
        case submit(name: String, direction: Direction, daysAhead: Int, consignee: String)
        case amend(name: String, daysAhead: Int?, consignee: String?)
        case bundle(
            name: String, vrn: VRN, direction: Direction, consignments: [String], controlPoint: ControlPoint?)
        case debundle(name: String)
        case watch(WatchSpec)
        case advance(TimeInterval)
        case at(Date)
        case arrive(lane: LaneID, vrn: VRN, viaImmigration: Bool)
        case leave(lane: LaneID)
        case button(lane: LaneID, role: ButtonRole, action: String)
        case override(lane: LaneID, instruction: Instruction, reason: Reason, officer: String, text: String)
        /// An officer's step on the lane's help call, as the console takes it.
        case help(lane: LaneID, officer: String, step: HelpStep)
        case open(lane: LaneID, officer: String)
        case close(lane: LaneID, officer: String)
        case offline(lane: LaneID, on: Bool, officer: String)
        case link(lane: LaneID, up: Bool)
        case kill(Target)
        case restart(Target)
        case wait(Duration)
        case expect(Expectation)
    }

    public enum HelpStep: Sendable, Hashable {
        case answer
        case phrase(UInt16, text: String)
        case end
    }

    public enum WatchSpec: Sendable {
        case vrn(VRN)
        case consignment(String)
        case consignee(String)
    }

    public enum Target: Sendable {
        case central
        case lane(LaneID)
    }

    /// What a lane must show: every field given must hold.
    public struct Expectation: Sendable {
        public var lane: LaneID
        public var fields: [(key: String, value: String)]
        public var journal: (kind: String, vrn: String?, reason: String?)?
        /// What the lane's offline bundle cache holds for a VRN in the lane's
        /// direction: `active` (a bundle an offline decision would use) or
        /// `none`. Central's live cache deltas make it change while the
        /// link is up.
        public var cache: (vrn: VRN, bundle: String)?
        /// Real time to wait for the lane to get there (messages travel).
        public var within: Duration
    }
}

/// A scenario file that cannot be run, with the line and what was expected.
public struct ScenarioError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

extension Scenario {
    static let expectKeys = [
        "xdb", "aiop", "phase", "reason", "vrn", "offline", "help", "link", "unladen_acknowledged",
        "earliest_crossing", "language", "officer_message", "outbox_pending",
    ]

    /// Reads and checks a scenario file.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else { throw ScenarioError(file: path, line: nil, message: "cannot read the file") }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
        var reader = Reader(file: file)
        do {
            return try reader.scenario(text)
        } catch let error as ScenarioError {
            throw error
        } catch {
            throw ScenarioError(file: file, line: nil, message: "\(error)")
        }
    }

    struct Reader {
        let file: String
        var lanes: [LaneID: Lane] = [:]
        var sourceLines: [Substring] = []

        func fail(_ node: Node?, _ message: String) -> ScenarioError {
            ScenarioError(file: file, line: node?.mark?.line, message: message)
        }

        func map(_ node: Node, _ what: String) throws -> [(String, Node, Node)] {
            guard case .mapping(let mapping) = node else { throw fail(node, "\(what): expected a mapping") }
            return try mapping.map { key, value in
                guard let k = key.string else { throw fail(key, "\(what): expected plain keys") }
                return (k, key, value)
            }
        }

        func fields(_ node: Node, _ what: String, allowed: [String]) throws -> [String: Node] {
            var out: [String: Node] = [:]
            for (key, keyNode, value) in try map(node, what) {
                guard allowed.contains(key) else {
                    throw fail(
                        keyNode,
                        "\(what): unknown key '\(key)'; expected one of \(allowed.joined(separator: ", "))")
                }
                out[key] = value
            }
            return out
        }

        func string(_ node: Node?, _ what: String) throws -> String {
            guard let node, let s = node.string else { throw fail(node, "\(what): expected a value") }
            return s
        }

        func make<T>(_ node: Node?, _ what: String, _ make: (String) throws -> T?) throws -> T {
            let text = try string(node, what)
            let value: T?
            do { value = try make(text) } catch {
                // Validation failures print as ": sentence [rule]" when they name no field.
                var why = "\(error)"
                if why.hasPrefix(": ") { why.removeFirst(2) }
                throw fail(node, "\(what): '\(text)' is refused: \(why)")
            }
            guard let value else { throw fail(node, "\(what): '\(text)' is not valid here") }
            return value
        }

        func duration(_ node: Node?, _ what: String) throws -> Duration {
            try make(node, what) { Self.parseDuration($0) }
        }

        /// `500ms`, `2s`, `1.5m`, `1h`, or several together: `29m59s`, `1h30m`.
        static func parseDuration(_ text: String) -> Duration? {
            let units: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600]
            var total = 0.0
            var rest = Substring(text)
            guard !rest.isEmpty else { return nil }
            while !rest.isEmpty {
                let number = rest.prefix { $0.isNumber || $0 == "." }
                rest = rest.dropFirst(number.count)
                let unit = rest.prefix { $0.isLetter }
                rest = rest.dropFirst(unit.count)
                guard let value = Double(number), let scale = units[String(unit)] else { return nil }
                total += value * scale
            }
            return .milliseconds(Int64((total * 1000).rounded()))
        }

        func lane(_ node: Node?, _ what: String) throws -> LaneID {
            let id: LaneID = try make(node, what) { try LaneID($0) }
            guard lanes[id] != nil else {
                throw fail(
                    node,
                    "\(what): no lane \(id) in `lanes` (\(lanes.keys.map(\.value).sorted().joined(separator: ", ")))"
                )
            }
            return id
        }

        mutating func scenario(_ text: String) throws -> Scenario {
            sourceLines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard let root = try Yams.compose(yaml: text) else { throw fail(nil, "the file is empty") }
            let top = try fields(
                root, "scenario",
                allowed: ["name", "description", "start", "phase", "selection", "timing", "lanes", "steps"])
            let start =
                try top["start"].map { node in
                    try make(node, "start") { try? HongKongTime.parse($0) }
                } ?? (try! HongKongTime.parse("2026-11-26T09:00:00+08:00"))
            let phase =
                try top["phase"].map { node in
                    try make(node, "phase") { ImplementationPhase(rawValue: $0) }
                } ?? .full
            var laden = 0.0
            var unladen = 0.0
            if let selection = top["selection"] {
                let f = try fields(selection, "selection", allowed: ["laden_rate", "unladen_rate"])
                laden = try f["laden_rate"].map { try make($0, "laden_rate") { Double($0) } } ?? 0
                unladen = try f["unladen_rate"].map { try make($0, "unladen_rate") { Double($0) } } ?? 0
            }
            var timeout = Duration.seconds(2)
            var grace = Duration.seconds(20)
            if let timing = top["timing"] {
                let f = try fields(timing, "timing", allowed: ["decision_timeout", "unladen_grace"])
                timeout = try f["decision_timeout"].map { try duration($0, "decision_timeout") } ?? timeout
                grace = try f["unladen_grace"].map { try duration($0, "unladen_grace") } ?? grace
            }
            guard case .sequence(let laneNodes)? = top["lanes"], !laneNodes.isEmpty else {
                throw fail(
                    top["lanes"] ?? root, "lanes: expected a list of lanes (id, control_point, direction)")
            }
            for node in laneNodes {
                let f = try fields(node, "lane", allowed: ["id", "control_point", "direction"])
                let id: LaneID = try make(f["id"], "lane id") { try LaneID($0) }
                let cp: ControlPoint = try make(f["control_point"], "control_point") {
                    ControlPoint(rawValue: $0)
                }
                let direction: Direction = try make(f["direction"], "direction") { try Direction($0) }
                lanes[id] = Lane(id: id, controlPoint: cp, direction: direction)
            }
            guard case .sequence(let stepNodes)? = top["steps"] else {
                throw fail(top["steps"] ?? root, "steps: expected a list of steps")
            }
            var steps: [Step] = []
            var names: Set<String> = []
            for node in stepNodes {
                steps.append(try step(node, start: start, names: &names))
            }
            let name = try top["name"].map { try string($0, "name") } ?? (file as NSString).lastPathComponent
            return Scenario(
                file: file, name: name, start: start,
                lanes: lanes.values.sorted { $0.id.value < $1.id.value },
                phase: phase, ladenRate: laden, unladenRate: unladen, decisionTimeout: timeout,
                unladenGrace: grace, steps: steps)
        }

        static let actions = [
            "submit", "amend", "bundle", "debundle", "watch", "advance", "at", "arrive", "leave", "press",
            "override", "help", "open", "close", "offline", "link", "kill", "restart", "wait", "expect",
        ]

        func step(_ node: Node, start: Date, names: inout Set<String>) throws -> Step {
            let entries = try map(node, "step")
            guard entries.count == 1, let (verb, verbNode, value) = entries.first else {
                throw fail(
                    node,
                    "a step is one action (\(Self.actions.joined(separator: ", "))); got \(entries.map(\.0))")
            }
            let line = verbNode.mark?.line ?? 0
            // The step as the technician wrote it: its first line in the file.
            let source = line >= 1 && line <= sourceLines.count ? sourceLines[line - 1] : "\(verb)"
            var text = source.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("- ") { text.removeFirst(2) }
            func known(_ node: Node?, _ what: String) throws -> String {
                let name = try string(node, what)
                guard names.contains(name) else {
                    throw fail(node, "\(what): '\(name)' is not named by an earlier step")
                }
                return name
            }
            let action: Action
            switch verb {
            case "submit":
                let f = try fields(
                    value, "submit", allowed: ["name", "direction", "days_ahead", "consignee"])
                let name = try string(f["name"], "submit: name")
                names.insert(name)
                action = .submit(
                    name: name, direction: try make(f["direction"], "direction") { try Direction($0) },
                    daysAhead: try f["days_ahead"].map { try make($0, "days_ahead") { Int($0) } } ?? 1,
                    consignee: try f["consignee"].map { try string($0, "consignee") }
                        ?? "Wilson Development Ltd")
            case "amend":
                let f = try fields(value, "amend", allowed: ["consignment", "days_ahead", "consignee"])
                action = .amend(
                    name: try known(f["consignment"], "amend: consignment"),
                    daysAhead: try f["days_ahead"].map { try make($0, "days_ahead") { Int($0) } },
                    consignee: try f["consignee"].map { try string($0, "consignee") })
            case "bundle":
                let f = try fields(
                    value, "bundle", allowed: ["name", "vrn", "direction", "consignments", "control_point"])
                guard case .sequence(let items)? = f["consignments"], !items.isEmpty else {
                    throw fail(f["consignments"] ?? value, "bundle: consignments: expected a list of names")
                }
                let consignments = try items.map { try known($0, "bundle: consignments") }
                let name = try string(f["name"], "bundle: name")
                names.insert(name)
                action = .bundle(
                    name: name, vrn: try make(f["vrn"], "vrn") { try VRN($0) },
                    direction: try make(f["direction"], "direction") { try Direction($0) },
                    consignments: consignments,
                    controlPoint: try f["control_point"].map {
                        try make($0, "control_point") { ControlPoint(rawValue: $0) }
                    })
            case "debundle":
                action = .debundle(name: try known(value, "debundle"))
            case "watch":
                let f = try fields(value, "watch", allowed: ["vrn", "consignment", "consignee"])
                if let v = f["vrn"] {
                    action = .watch(.vrn(try make(v, "vrn") { try VRN($0) }))
                } else if let c = f["consignment"] {
                    action = .watch(.consignment(try known(c, "watch: consignment")))
                } else if let n = f["consignee"] {
                    action = .watch(.consignee(try string(n, "consignee")))
                } else {
                    throw fail(value, "watch: expected one of vrn, consignment, consignee")
                }
            case "advance":
                action = .advance(try duration(value, "advance").seconds)
            case "at":
                let text = try string(value, "at")
                if let full = try? HongKongTime.parse(text) {
                    action = .at(full)
                } else if let time = Self.timeOfDay(text, on: start) {
                    action = .at(time)
                } else {
                    throw fail(
                        value,
                        "at: expected HH:MM or HH:MM:SS (Hong Kong time, the start's day) or an ISO 8601 time"
                    )
                }
            case "arrive":
                let f = try fields(value, "arrive", allowed: ["lane", "vrn", "via"])
                let via = try f["via"].map { try string($0, "via") } ?? "lane"
                guard ["lane", "immigration"].contains(via) else {
                    throw fail(
                        f["via"], "arrive: via: expected lane (the lane's reader) or immigration (central)")
                }
                action = .arrive(
                    lane: try lane(f["lane"], "arrive: lane"), vrn: try make(f["vrn"], "vrn") { try VRN($0) },
                    viaImmigration: via == "immigration")
            case "leave":
                action = .leave(lane: try lane(value, "leave"))
            case "press":
                let f = try fields(value, "press", allowed: ["lane", "button", "action"])
                let role: ButtonRole = try make(f["button"], "press: button") {
                    $0 == "unladen" ? .unladen : $0 == "help" ? .help : nil
                }
                let how = try f["action"].map { try string($0, "action") } ?? "click"
                guard ["click", "press", "release"].contains(how) else {
                    throw fail(f["action"], "press: action: expected click, press or release")
                }
                action = .button(lane: try lane(f["lane"], "press: lane"), role: role, action: how)
            case "override":
                let f = try fields(
                    value, "override", allowed: ["lane", "instruction", "reason", "officer", "text"])
                action = .override(
                    lane: try lane(f["lane"], "override: lane"),
                    instruction: try make(f["instruction"], "instruction") { Instruction(rawValue: $0) },
                    reason: try make(f["reason"], "reason") { Reason(rawValue: $0) },
                    officer: try f["officer"].map { try string($0, "officer") } ?? "officer",
                    text: try f["text"].map { try string($0, "text") } ?? "")
            case "help":
                let f = try fields(value, "help", allowed: ["lane", "do", "officer", "phrase", "text"])
                let step: HelpStep
                switch try f["do"].map({ try string($0, "help: do") }) {
                case "answer": step = .answer
                case "end": step = .end
                case "phrase":
                    step = .phrase(
                        try make(f["phrase"], "help: phrase") { UInt16($0) },
                        text: try f["text"].map { try string($0, "text") } ?? "")
                default: throw fail(f["do"] ?? value, "help: do: expected answer, phrase or end")
                }
                action = .help(
                    lane: try lane(f["lane"], "help: lane"),
                    officer: try f["officer"].map { try string($0, "officer") } ?? "officer", step: step)
            case "open", "close":
                let f = try fields(value, verb, allowed: ["lane", "officer"])
                let id = try lane(f["lane"], "\(verb): lane")
                let officer = try f["officer"].map { try string($0, "officer") } ?? "officer"
                action =
                    verb == "open" ? .open(lane: id, officer: officer) : .close(lane: id, officer: officer)
            case "offline":
                let f = try fields(value, "offline", allowed: ["lane", "on", "officer"])
                action = .offline(
                    lane: try lane(f["lane"], "offline: lane"),
                    on: try make(f["on"], "offline: on") { Bool($0) },
                    officer: try f["officer"].map { try string($0, "officer") } ?? "officer")
            case "link":
                let f = try fields(value, "link", allowed: ["lane", "up"])
                action = .link(
                    lane: try lane(f["lane"], "link: lane"), up: try make(f["up"], "link: up") { Bool($0) })
            case "kill", "restart":
                let text = try string(value, verb)
                let target: Target = text == "central" ? .central : .lane(try lane(value, verb))
                action = verb == "kill" ? .kill(target) : .restart(target)
            case "wait":
                action = .wait(try duration(value, "wait"))
            case "expect":
                action = .expect(try expectation(value))
            default:
                throw fail(
                    verbNode,
                    "unknown step '\(verb)'; expected one of \(Self.actions.joined(separator: ", "))")
            }
            return Step(line: line, action: action, text: text)
        }

        func expectation(_ node: Node) throws -> Scenario.Expectation {
            let f = try fields(
                node, "expect", allowed: ["lane", "journal", "cache", "within"] + Scenario.expectKeys)
            var fields: [(key: String, value: String)] = []
            for key in Scenario.expectKeys {
                if let value = f[key] { fields.append((key, try string(value, "expect: \(key)"))) }
            }
            var journal: (kind: String, vrn: String?, reason: String?)?
            if let j = f["journal"] {
                let jf = try self.fields(j, "expect: journal", allowed: ["kind", "vrn", "reason"])
                journal = (
                    try string(jf["kind"], "journal: kind"), try jf["vrn"].map { try string($0, "vrn") },
                    try jf["reason"].map { try string($0, "reason") }
                )
            }
            var cache: (vrn: VRN, bundle: String)?
            if let c = f["cache"] {
                let cf = try self.fields(c, "expect: cache", allowed: ["vrn", "bundle"])
                let bundle = try string(cf["bundle"], "cache: bundle")
                guard ["active", "none"].contains(bundle) else {
                    throw fail(cf["bundle"], "cache: bundle: expected active or none, got '\(bundle)'")
                }
                cache = (try make(cf["vrn"], "vrn") { try VRN($0) }, bundle)
            }
            guard !fields.isEmpty || journal != nil || cache != nil else {
                throw fail(
                    node,
                    "expect: says nothing to check; expected some of \(Scenario.expectKeys.joined(separator: ", ")), journal, cache"
                )
            }
            return Scenario.Expectation(
                lane: try lane(f["lane"], "expect: lane"), fields: fields, journal: journal, cache: cache,
                within: try f["within"].map { try duration($0, "within") } ?? .seconds(10))
        }

        /// `HH:MM[:SS]` on the start's Hong Kong day.
        static func timeOfDay(_ text: String, on start: Date) -> Date? {
            let parts = text.split(separator: ":").compactMap { Int($0) }
            guard (2...3).contains(parts.count), (0..<24).contains(parts[0]), (0..<60).contains(parts[1])
            else {
                return nil
            }
            let day = CalendarDay(containing: start)
            return try? HongKongTime.parse("\(day)T\(text.count == 5 ? text + ":00" : text)+08:00")
        }
    }
}

extension Duration {
    var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}
