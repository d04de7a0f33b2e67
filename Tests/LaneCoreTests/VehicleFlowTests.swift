import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import Testing

/// Opening, closing, arrivals, decisions shown and vehicles leaving: each
/// row is an input and every action the lane must answer it with, in order.
@Suite("Vehicle flow")
struct VehicleFlowTests {
    static let left = ["journal vehicle_left", "report left AB1234", "show WELCOME"]
    static let leftBundled = ["journal vehicle_left", "report left AB1234 ubr", "show WELCOME"]

    static let scenarios: [Scenario] = [
        Scenario(
            name: "a closed lane opens and closes; repeats are journaled and change nothing", open: false,
            steps: [
                step(.open, "journal lane_opened", "show WELCOME", "report opened"),
                step(.open, "journal input_ignored"),
                step(.close, "journal lane_closed", "show CLOSED", "report closed"),
                step(.close, "journal input_ignored"),
            ], board: "CLOSED"),
        Scenario(
            name: "a closed lane ignores arrivals, Unladen and departures", open: false,
            steps: [
                step(.arrive("AB1234"), "journal arrival_ignored"),
                step(.press(.unladen), "journal button_ignored", "report press unladen"),
                step(.leave, "journal input_ignored"),
            ], board: "CLOSED"),
        Scenario(
            name: "a bundled vehicle is cleared and leaves with its UBR",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
                step(.leave, leftBundled),
            ], board: "WELCOME"),
        Scenario(
            name: "INSPECT shows its reason at once",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.inspect, .targeted), shown("INSPECT/TARGETED AB1234", "INSPECT")),
            ], board: "INSPECT/TARGETED AB1234"),
        Scenario(
            name: "EARLY_CROSSING shows the earliest crossing time",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(
                    .decideEarly(t0.addingTimeInterval(1800)),
                    shown("INSPECT/EARLY_CROSSING@2026-09-21 22:43:20 AB1234", "INSPECT")),
            ], board: "INSPECT/EARLY_CROSSING@2026-09-21 22:43:20 AB1234"),
        Scenario(
            name: "a PAPER_MANIFEST answer waits out the unladen grace, then DROP_MANIFEST",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(
                    .decide(.dropManifest, .paperManifest), "journal decision_received",
                    "cancel decisionTimeout",
                    "show STOP invite-unladen AB1234"),
                step(
                    .fire(.unladenGrace), "journal unladen_grace_ended",
                    "show DROP_MANIFEST/PAPER_MANIFEST AB1234",
                    "journal instruction_shown", "report shown DROP_MANIFEST", after: 20),
                step(.leave, left),
            ], board: "WELCOME"),
        Scenario(
            name: "an arrival while the previous vehicle has not left: it is taken as left first",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
                step(
                    .arrive("CD5678"), ["journal vehicle_left", "report left AB1234 ubr"] + arrival("CD5678")),
            ], board: "STOP CD5678"),
        Scenario(
            name: "an arrival while the previous decision is pending: its answer comes late and is dropped",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(
                    .arrive("CD5678"),
                    [
                        "journal vehicle_left", "report left AB1234", "cancel decisionTimeout",
                        "cancel unladenGrace",
                    ]
                        + arrival("CD5678")),
                step(.decide(.cleared, .bundleOK, .issued(0)), "journal decision_late"),
            ], board: "STOP CD5678"),
        Scenario(
            name: "the same vehicle reported again (central and the reader) is asked about once",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.arrive("AB1234", .reader), "journal arrival_ignored"),
            ], board: "STOP AB1234"),
        Scenario(
            name: "a departure with no vehicle is journaled and changes nothing",
            steps: [step(.leave, "journal input_ignored")], board: "WELCOME"),
        Scenario(
            name: "the AIOP language returns to the default when the vehicle leaves",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.language(.english), "journal language_selected", "show STOP AB1234 lang=en"),
                step(.language(.english), "journal language_selected"),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234 lang=en", "CLEARED")),
                step(.leave, leftBundled),
            ], board: "WELCOME"),
        Scenario(
            name: "closing with a vehicle at the lane takes it as left, then closes",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(
                    .close, "journal vehicle_left", "report left AB1234", "cancel decisionTimeout",
                    "cancel unladenGrace", "journal lane_closed", "show CLOSED", "report closed"),
                step(.decide(.cleared, .bundleOK, .issued(0)), "journal decision_late"),
            ], board: "CLOSED"),
        Scenario(
            name: "the link mark follows the link; repeats are journaled",
            steps: [
                step(.link(false), "journal link_down", "show WELCOME link-down"),
                step(.link(false), "journal input_ignored"),
                step(.link(true), "journal link_up", "show WELCOME"),
            ], board: "WELCOME"),
        Scenario(
            name: "faults and their end are journaled and reported; the boards keep their state",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.fault("gpio-stuck"), "journal fault", "report fault gpio-stuck"),
                step(.faultCleared("gpio-stuck"), "journal fault_cleared", "report fault-cleared gpio-stuck"),
            ], board: "STOP AB1234"),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: Scenario) { s.run() }

    @Test("the request names the vehicle, its arrival time and the lane's mode")
    func requestContents() throws {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        let request = try #require(
            d.last.compactMap { if case .requestDecision(let r) = $0 { r } else { nil } }.first)
        #expect(request.vrn == plate("AB1234"))
        #expect(request.arrivedAt == d.now)
        #expect(request.unladenPressed == false)
        #expect(request.offline == false)
        #expect(request.requestID == d.lane.pendingRequestID)
        #expect(d.lane.currentVRN == plate("AB1234"))
        #expect(d.lane.phaseName == "stop")
    }

    @Test("instruction_shown is journaled after the board shows it, with the whole decision")
    func instructionShownEntry() throws {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        d.feed(.decideEarly(t0.addingTimeInterval(1800)))
        let kinds = d.last.map(summary)
        let showAt = try #require(kinds.firstIndex { $0.hasPrefix("show ") })
        let journalAt = try #require(kinds.firstIndex(of: "journal instruction_shown"))
        #expect(showAt < journalAt)
        let entry = try #require(d.journal.first { $0.kind == .instructionShown })
        #expect(entry.vrn == plate("AB1234"))
        #expect(entry.requestID == d.requests[0])
        #expect(entry.decisionID == 101)
        #expect(entry.instruction == .inspect && entry.reason == .earlyCrossing)
        #expect(entry.decision?.earliestCrossing == t0.addingTimeInterval(1800))
        #expect(entry.detail.contains("earliest_crossing=2026-09-21T22:43:20+08:00"))
        #expect(d.lane.lastDecision?.decisionID == 101)
        #expect(d.lane.pendingRequestID == nil)
    }

    @Test("every open or close names the officer who did it")
    func officerOnOpenClose() throws {
        var d = Driver(open: false)
        d.feed(.open)
        #expect(d.journal.map(\.officer) == ["officer-1"])
        d.feed(.close)
        #expect(d.journal.map(\.officer) == ["officer-1"])
        #expect(d.lane.isOpen == false)
    }

    @Test("a lane starts with the link mark until the link reports up")
    func startsWithLinkDown() {
        let lane = LaneStateMachine(settings: testSettings, open: true)
        #expect(describe(lane.board) == "WELCOME link-down")
        #expect(lane.isLinkUp == false)
        #expect(describe(LaneStateMachine(settings: testSettings, open: false).board) == "CLOSED link-down")
    }

    @Test("a fault stays listed until cleared")
    func activeFaults() {
        var d = Driver()
        d.feed(.fault("gpio-stuck"))
        #expect(d.lane.activeFaults == ["gpio-stuck": "button held 30 s"])
        d.feed(.faultCleared("gpio-stuck"))
        #expect(d.lane.activeFaults.isEmpty)
        d.feed(.faultCleared("gpio-stuck"))
        #expect(d.journal.first?.detail.contains("was_active=false") == true)
    }
}
