import BoardLayout
import CargoStore
import Foundation
import RoadCargo

/// A lane as the officers' console shows it, derived (purely) from what
/// central holds: the link's state, the lane's reports, its crossings, the
/// officers' commands and its help call.
///
/// Central sees what the lane reported, not its pixels: between a decision
/// and the lane's `instruction_shown` report the view says STOP, which is
/// what the lane shows while it waits. A vehicle decided offline (rule 4)
/// shows only through the lane's reports.
public struct LaneView: Sendable, Hashable, Encodable {
    public struct Vehicle: Sendable, Hashable, Encodable {
        public var vrn: String
        public var requestId: UInt64?
        public var crossing: Int64
        public var instruction: String
        public var reason: String?
        public var officer: String?
        public var since: String
        /// An override needs a decision the lane knows (its request id).
        public var overridable: Bool
    }

    public struct Words: Sendable, Hashable, Encodable {
        public var en: String
        public var zhHant: String

        init(_ text: LocalizedText) {
            en = text.english
            zhHant = text.traditionalChinese
        }
    }

    public struct Message: Sendable, Hashable, Encodable {
        public var phraseId: UInt16
        public var en: String
        public var zhHant: String
        public var text: String
    }

    public struct Boards: Sendable, Hashable, Encodable {
        public var xdb: Words
        public var aiop: Words
        public var message: Message?
    }

    public struct Help: Sendable, Hashable, Encodable {
        public var callId: Int64
        public var state: String
    }

    public var id: String
    public var controlPoint: String
    public var direction: String
    public var link: String
    public var open: Bool
    public var offline: Bool
    public var vehicle: Vehicle?
    public var boards: Boards
    public var help: Help?
    public var faults: [String]
    public var lastEventAt: String?
    /// Offline crossings the lane has sent central, and how many of them
    /// are conflicts no officer has acknowledged (set by the console's
    /// snapshot; zero where it is not).
    public var offlineReceived = 0
    public var conflictsOpen = 0
    /// In a cluster: the node the lane is linked to.
    public var node: String?

    /// - Parameters:
    ///   - events: the lane's reports, newest first.
    ///   - crossings: its crossings, newest first.
    ///   - actions: officers' commands to it, newest first.
    public static func derive(
        lane: Lane, connected: Bool, events: [LaneEventRecord], crossings: [CrossingSummary],
        actions: [OfficerActionRecord], call: HelpCallRecord?
    ) -> LaneView {
        let open =
            events.first { $0.kind == "lane_opened" || $0.kind == "lane_closed" }?.kind != "lane_closed"
        let offline = actions.first { $0.command == .offline }?.details["on"] == "true"
        let vehicle = crossings.first.flatMap {
            Self.vehicle($0, lane: lane.id, events: events, actions: actions)
        }

        let main: LocalizedText
        if !open {
            main = BoardText.closed
        } else {
            switch vehicle?.instruction {
            case nil: main = BoardText.welcome
            case Instruction.cleared.rawValue: main = BoardText.cleared
            case Instruction.inspect.rawValue: main = BoardText.inspect
            case Instruction.dropManifest.rawValue: main = BoardText.dropManifest
            default: main = BoardText.stop
            }
        }
        var aiop = main
        var message: Message?
        if let call {
            aiop = call.state == .answered ? BoardText.officerConnected : BoardText.helpRinging
            if let last = call.messages.last, let phrase = OfficerPhrase.phrase(id: last.phraseID) {
                message = Message(
                    phraseId: last.phraseID, en: phrase.text.english, zhHant: phrase.text.traditionalChinese,
                    text: last.text)
            }
        }
        return LaneView(
            id: lane.id.value, controlPoint: lane.controlPoint.rawValue, direction: lane.direction.rawValue,
            link: connected ? "up" : "down", open: open, offline: offline, vehicle: vehicle,
            boards: Boards(xdb: Words(main), aiop: Words(aiop), message: message),
            help: call.map { Help(callId: $0.id, state: $0.state.rawValue) }, faults: faults(events),
            lastEventAt: events.first.map { HongKongTime.iso8601($0.receivedAt) })
    }

    /// The vehicle of the lane's latest crossing, unless it has left.
    static func vehicle(
        _ latest: CrossingSummary, lane: LaneID, events: [LaneEventRecord], actions: [OfficerActionRecord]
    ) -> Vehicle? {
        let c = latest.crossing
        let left = events.contains {
            $0.kind == "vehicle_left" && $0.fields["vrn"] == c.vrn.value && $0.receivedAt >= c.decidedAt
        }
        guard !left else { return nil }
        let requestID = laneRequestID(latest.requestID, lane: lane)
        // A decision the lane took offline is shown under the lane's own
        // request id (there was no central decision id to show).
        let shownID = offlineRequestID(latest.requestID, lane: lane).map { "\($0)" } ?? "\(c.id)"
        let shown = events.first { $0.kind == "instruction_shown" && $0.fields["decisionId"] == shownID }
        let override = actions.first {
            $0.command == .override && requestID != nil && $0.details["requestId"] == "\(requestID!)"
        }
        var instruction = Instruction.stop.rawValue
        var reason: String? = nil
        var officer: String? = nil
        var since = c.decidedAt
        if let shown, let shownInstruction = shown.fields["instruction"] {
            instruction = shownInstruction
            since = shown.receivedAt
            if let override, override.details["instruction"] == shownInstruction,
                override.requestedAt <= shown.receivedAt
            {
                reason = override.details["reason"]
                officer = override.officer
            } else {
                reason = c.decision.reason.rawValue
            }
        }
        return Vehicle(
            vrn: c.vrn.value, requestId: requestID, crossing: c.id, instruction: instruction, reason: reason,
            officer: officer, since: HongKongTime.iso8601(since), overridable: requestID != nil)
    }

    /// The lane's own request number in a crossing's request id `link:LANE:N`.
    static func laneRequestID(_ stored: String, lane: LaneID) -> UInt64? {
        let prefix = "link:\(lane.value):"
        guard stored.hasPrefix(prefix) else { return nil }
        return UInt64(stored.dropFirst(prefix.count))
    }

    /// The lane's request number in an offline crossing's request id
    /// `offline:LANE:N` (`SQLiteCargoStore.offlineRequestID(lane:requestID:)`).
    static func offlineRequestID(_ stored: String, lane: LaneID) -> UInt64? {
        let prefix = "offline:\(lane.value):"
        guard stored.hasPrefix(prefix) else { return nil }
        return UInt64(stored.dropFirst(prefix.count))
    }

    /// The fault code lanes report an officer alert under (laned's
    /// `LaneFaultCode.officerAlert`, part of the link protocol): it concerns
    /// one vehicle, so it stands until that vehicle leaves.
    static let officerAlertCode = "1"

    /// The fault code laned reports a journal it cannot write under
    /// (`LaneFaultCode.journalFailed`). That report is the only one a lane
    /// sends without journaling it; every other report comes through the
    /// journal's outbox, so any later report means the journal writes again
    /// (laned was restarted on a good one), which clears the fault.
    static let journalFailedCode = "40"

    /// Faults the lane reported and has not reported cleared, oldest first.
    static func faults(_ events: [LaneEventRecord]) -> [String] {
        var open: [(code: String, text: String)] = []
        for event in events.reversed() {
            if event.kind == "vehicle_left" { open.removeAll { $0.code == officerAlertCode } }
            if event.kind != "fault" || event.fields["code"] != journalFailedCode {
                open.removeAll { $0.code == journalFailedCode }
            }
            guard event.kind == "fault", let code = event.fields["code"], let text = event.fields["text"]
            else {
                continue
            }
            open.removeAll { $0.code == code }
            if !text.hasSuffix(": cleared") { open.append((code, text)) }
        }
        return open.map(\.text)
    }

    /// The VRN of the vehicle standing in the lane now, as far as central knows.
    static func currentVRN(of lane: LaneID, in repository: any CargoRepository) async throws -> VRN? {
        guard let latest = try await repository.crossings(lane: lane, limit: 1).first else { return nil }
        let events = try await repository.laneEvents(lane: lane, limit: 50)
        return vehicle(latest, lane: lane, events: events, actions: []).map { _ in latest.crossing.vrn }
    }
}
