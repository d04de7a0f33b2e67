import CargoStore
import Central
import Foundation
import LinkCore
import RoadCargo
import Testing

/// What a lane card shows, from central's records alone.
@Suite struct LaneViewTests {
    static let laneID = try! LaneID("LMC-IN-01")
    static let lane = Lane(id: laneID, controlPoint: .lokMaChau, direction: .inbound)
    static let t0 = Harness.start

    static func crossing(
        _ instruction: Instruction, id: Int64 = 5, request: UInt64 = 7, vrn: String = "AB1234"
    )
        -> CrossingSummary
    {
        let decision = Decision(
            instruction: instruction, reason: instruction == .cleared ? .bundleOK : .noBundle)
        return CrossingSummary(
            crossing: Crossing(
                id: id, lane: laneID, vrn: try! VRN(vrn), arrivedAt: t0, unladenPressed: false,
                decision: decision,
                decidedAt: t0),
            requestID: "link:LMC-IN-01:\(request)", ccrns: [])
    }

    static func event(_ kind: String, _ fields: [String: String], after seconds: TimeInterval)
        -> LaneEventRecord
    {
        let at = t0.addingTimeInterval(seconds)
        return LaneEventRecord(lane: laneID, occurredAt: at, kind: kind, fields: fields, receivedAt: at)
    }

    static func view(
        events: [LaneEventRecord] = [], crossings: [CrossingSummary] = [],
        actions: [OfficerActionRecord] = [],
        call: HelpCallRecord? = nil
    ) -> LaneView {
        LaneView.derive(
            lane: lane, connected: true, events: events.reversed(), crossings: crossings, actions: actions,
            call: call)
    }

    /// An offline decision reaches central as a crossing `offline:LANE:N`:
    /// the card follows the lane's report of it (shown under the lane's
    /// request id N) and offers no override, since central made no decision.
    @Test func anOfflineCrossingShowsWhatTheLaneShowedAndIsNotOverridable() {
        var offline = Self.crossing(.cleared, id: 40, request: 9)
        offline.requestID = "offline:LMC-IN-01:9"
        let waiting = Self.view(crossings: [offline])
        #expect(waiting.vehicle?.instruction == "STOP")
        #expect(waiting.vehicle?.requestId == nil)
        #expect(waiting.vehicle?.overridable == false)
        let shown = Self.view(
            events: [
                Self.event("instruction_shown", ["instruction": "CLEARED", "decisionId": "9"], after: 1)
            ],
            crossings: [offline])
        #expect(shown.vehicle?.instruction == "CLEARED")
        #expect(shown.vehicle?.reason == "BUNDLE_OK")
        #expect(shown.vehicle?.overridable == false)
        // Central's crossing id 40 is not the lane's decision id here.
        let other = Self.view(
            events: [
                Self.event("instruction_shown", ["instruction": "CLEARED", "decisionId": "40"], after: 1)
            ],
            crossings: [offline])
        #expect(other.vehicle?.instruction == "STOP")
    }

    @Test func aDecisionShowsAsStopUntilTheLaneReportsItOnTheBoards() {
        let decided = Self.view(crossings: [Self.crossing(.cleared)])
        #expect(decided.vehicle?.vrn == "AB1234")
        #expect(decided.vehicle?.instruction == "STOP")
        #expect(decided.boards.xdb.en == "Please Stop")
        #expect(decided.vehicle?.requestId == 7)

        let shown = Self.view(
            events: [
                Self.event("instruction_shown", ["instruction": "CLEARED", "decisionId": "5"], after: 1)
            ],
            crossings: [Self.crossing(.cleared)])
        #expect(shown.vehicle?.instruction == "CLEARED")
        #expect(shown.vehicle?.reason == "BUNDLE_OK")
        #expect(shown.boards.xdb.zhHant == "清關完成")
    }

    @Test func anOverrideShowsTheOfficerAndItsReasonOnceTheLaneShowsIt() {
        let action = OfficerActionRecord(
            lane: Self.laneID, officer: "chan", command: .override,
            details: [
                "requestId": "7", "instruction": "INSPECT", "reason": "OFFICER_DIVERT", "text": "tip-off",
            ],
            requestedAt: Self.t0.addingTimeInterval(2))
        let view = Self.view(
            events: [
                Self.event("instruction_shown", ["instruction": "CLEARED", "decisionId": "5"], after: 1),
                Self.event("instruction_shown", ["instruction": "INSPECT", "decisionId": "5"], after: 3),
            ], crossings: [Self.crossing(.cleared)], actions: [action])
        #expect(view.vehicle?.instruction == "INSPECT")
        #expect(view.vehicle?.reason == "OFFICER_DIVERT")
        #expect(view.vehicle?.officer == "chan")
        #expect(view.boards.xdb.en.hasPrefix("Go to Customs Examination Compound"))
    }

    @Test func aVehicleThatLeftLeavesAnEmptyLaneAndAClosedLaneSaysSo() {
        let left = Self.view(
            events: [
                Self.event("instruction_shown", ["instruction": "CLEARED", "decisionId": "5"], after: 1),
                Self.event("vehicle_left", ["vrn": "AB1234"], after: 5),
            ], crossings: [Self.crossing(.cleared)])
        #expect(left.vehicle == nil)
        #expect(left.boards.xdb.en == "Welcome")
        let closed = Self.view(events: [
            Self.event("lane_closed", [:], after: 1), Self.event("lane_opened", [:], after: 2),
            Self.event("lane_closed", [:], after: 3),
        ])
        #expect(!closed.open)
        #expect(closed.boards.xdb.en == "Lane Closed")
    }

    @Test func faultsStayUntilTheLaneReportsThemCleared() {
        let view = Self.view(events: [
            Self.event("fault", ["code": "3", "text": "gpio: help button stuck"], after: 1),
            Self.event("fault", ["code": "4", "text": "display: xdb lost"], after: 2),
            Self.event("fault", ["code": "3", "text": "gpio: cleared"], after: 3),
        ])
        #expect(view.faults == ["display: xdb lost"])
        // An officer alert (rule 4) is about one vehicle: it goes when the vehicle does.
        let alert = Self.event(
            "fault", ["code": "1", "text": "SYSTEM_UNAVAILABLE: no answer in 2 s"], after: 1)
        #expect(Self.view(events: [alert]).faults == ["SYSTEM_UNAVAILABLE: no answer in 2 s"])
        #expect(
            Self.view(events: [alert, Self.event("vehicle_left", ["vrn": "AB1234"], after: 2)]).faults.isEmpty
        )
    }

    /// A journal laned cannot write is reported without the journal; any
    /// later report went through it, so the journal works again.
    @Test func aJournalFaultStaysUntilTheLaneReportsAnythingElse() {
        let failed = Self.event(
            "fault", ["code": "40", "text": "journal_failed: cannot write the journal /x: readonly"], after: 2
        )
        let before = Self.event("lane_opened", [:], after: 1)
        #expect(
            Self.view(events: [before, failed]).faults == [
                "journal_failed: cannot write the journal /x: readonly"
            ])
        #expect(Self.view(events: [before, failed, Self.event("lane_opened", [:], after: 3)]).faults.isEmpty)
        let other = Self.event("fault", ["code": "11", "text": "gpio_lost: chip gone"], after: 3)
        #expect(Self.view(events: [failed, other]).faults == ["gpio_lost: chip gone"])
    }

    @Test func aHelpCallShowsOnTheAIOPWithTheLastPhrase() {
        var call = HelpCallRecord(
            id: 4, lane: Self.laneID, controlPoint: .lokMaChau, laneCallID: 9, state: .answered,
            officer: "chan",
            rangAt: Self.t0)
        call.messages = [.init(phraseID: 2, text: "left side", officer: "chan", at: Self.t0)]
        let view = Self.view(call: call)
        #expect(view.help?.state == "answered")
        #expect(view.boards.message?.zhHant == "請駛往 3 號車位")
        #expect(view.boards.message?.text == "left side")
    }
}
