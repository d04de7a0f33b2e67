import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import Testing

/// The Unladen button and the unladen grace: a press counts from the grace
/// time before an arrival until the grace time after it, and only until a
/// decision is shown.
@Suite("Unladen button and grace")
struct UnladenTests {
    /// A press taken while a vehicle's request is out: the request is asked again with Unladen.
    static let takenWithVehicle = [
        "journal button_pressed", "lamp unladen on", "cancel unladenGrace", "journal decision_requested",
        "show STOP AB1234 ack", "request unladen", "start decisionTimeout 2s", "report press unladen",
    ]
    static let ignored = ["journal button_ignored", "report press unladen"]

    static let scenarios: [Scenario] = [
        Scenario(
            name: "a press before any arrival is carried by the next arrival's request",
            steps: [
                step(
                    .press(.unladen), "journal button_pressed", "lamp unladen on", "start unladenGrace 20s",
                    "show WELCOME ack", "report press unladen"),
                step(.release(.unladen), "journal button_released", "report release unladen"),
                step(
                    .arrive("AB1234"), "journal arrival", "journal decision_requested",
                    "show STOP AB1234 ack",
                    "request unladen", "start decisionTimeout 2s", "cancel unladenGrace", after: 15),
                step(
                    .decide(.cleared, .unladen), shown("CLEARED/UNLADEN AB1234 ack", "CLEARED", grace: false)),
                step(
                    .leave, "journal vehicle_left", "report left AB1234", "lamp unladen off", "show WELCOME"),
            ], board: "WELCOME"),
        Scenario(
            name: "a press before arrival lapses when no vehicle comes within the grace",
            steps: [
                step(
                    .press(.unladen), "journal button_pressed", "lamp unladen on", "start unladenGrace 20s",
                    "show WELCOME ack", "report press unladen"),
                step(
                    .fire(.unladenGrace), "journal unladen_grace_ended", "lamp unladen off", "show WELCOME",
                    after: 20),
                step(.arrive("AB1234"), arrival("AB1234")),
            ], board: "STOP AB1234"),
        Scenario(
            name: "a press before arrival older than the grace is not carried, even if its timer is late",
            steps: [
                step(
                    .press(.unladen), "journal button_pressed", "lamp unladen on", "start unladenGrace 20s",
                    "show WELCOME ack", "report press unladen"),
                step(
                    .arrive("AB1234"),
                    ["journal unladen_grace_ended", "lamp unladen off"] + arrival("AB1234"),
                    after: 20.5),
            ], board: "STOP AB1234"),
        Scenario(
            name: "a double press before arrival: the second is journaled and ignored",
            steps: [
                step(
                    .press(.unladen), "journal button_pressed", "lamp unladen on", "start unladenGrace 20s",
                    "show WELCOME ack", "report press unladen"),
                step(.press(.unladen), ignored),
            ], board: "WELCOME ack"),
        Scenario(
            name: "a press while the decision is pending supersedes the request; the old answer is dropped",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.press(.unladen), takenWithVehicle),
                step(.decide(.cleared, .bundleOK, .issued(0)), "journal decision_late"),
                step(
                    .decide(.inspect, .unladenConflict),
                    shown("INSPECT/UNLADEN_CONFLICT AB1234 ack", "INSPECT", grace: false)),
            ], board: "INSPECT/UNLADEN_CONFLICT AB1234 ack"),
        Scenario(
            name: "a double press after arrival: the second is journaled and ignored",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.press(.unladen), takenWithVehicle),
                step(.press(.unladen), ignored),
            ], board: "STOP AB1234 ack"),
        Scenario(
            name: "a NO_BUNDLE answer is held; a press within the grace asks again and shows that answer",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(
                    .decide(.inspect, .noBundle), "journal decision_received", "cancel decisionTimeout",
                    "show STOP invite-unladen AB1234"),
                step(.press(.unladen), takenWithVehicle, after: 10),
                step(
                    .decide(.cleared, .unladen), shown("CLEARED/UNLADEN AB1234 ack", "CLEARED", grace: false)),
                step(.decide(.inspect, .noBundle, .issued(0)), "journal decision_late"),
            ], board: "CLEARED/UNLADEN AB1234 ack"),
        Scenario(
            name: "a NO_BUNDLE answer is shown when the grace ends without a press",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(
                    .decide(.inspect, .noBundle), "journal decision_received", "cancel decisionTimeout",
                    "show STOP invite-unladen AB1234"),
                step(
                    .fire(.unladenGrace), "journal unladen_grace_ended", "show INSPECT/NO_BUNDLE AB1234",
                    "journal instruction_shown", "report shown INSPECT", after: 20),
                step(.press(.unladen), ignored),
            ], board: "INSPECT/NO_BUNDLE AB1234"),
        Scenario(
            name:
                "a bundled vehicle's decision is shown at once and ends the grace; a later press is ignored",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
                step(.press(.unladen), ignored),
            ], board: "CLEARED/BUNDLE_OK AB1234"),
        Scenario(
            name:
                "after the grace, with no answer yet, a press is ignored and the answer is shown as it comes",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.fire(.decisionTimeout), timedOut, after: 2),
                step(.fire(.unladenGrace), "journal unladen_grace_ended", after: 18),
                step(.press(.unladen), ignored),
                step(
                    .decide(.inspect, .noBundle), "journal decision_late", "show INSPECT/NO_BUNDLE AB1234",
                    "journal instruction_shown", "report shown INSPECT"),
            ], board: "INSPECT/NO_BUNDLE AB1234"),
        Scenario(
            name: "a press after the decision timeout, within the grace, asks again",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.fire(.decisionTimeout), timedOut, after: 2),
                step(.press(.unladen), takenWithVehicle),
            ], board: "STOP AB1234 ack"),
        Scenario(
            name: "closing drops a press made before any arrival",
            steps: [
                step(
                    .press(.unladen), "journal button_pressed", "lamp unladen on", "start unladenGrace 20s",
                    "show WELCOME ack", "report press unladen"),
                step(
                    .close, "cancel unladenGrace", "lamp unladen off", "journal lane_closed", "show CLOSED",
                    "report closed"),
            ], board: "CLOSED"),
    ]

    static let timedOut = [
        "journal decision_timeout", "show SYSTEM_UNAVAILABLE AB1234",
        "report officer-alert SYSTEM_UNAVAILABLE",
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: Scenario) { s.run() }

    @Test("a held answer never reaches the boards once Unladen is pressed")
    func heldAnswerDropped() throws {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        d.feed(.decide(.inspect, .noBundle))
        #expect(d.lane.phaseName == "awaiting_unladen")
        #expect(d.lane.pendingRequestID == nil)
        d.feed(.press(.unladen))
        let pressed = try #require(d.journal.first)
        #expect(pressed.kind == .buttonPressed && pressed.requestID == d.requests[0])
        let asked = try #require(d.journal.last)
        #expect(asked.kind == .decisionRequested && asked.requestID == d.requests[1])
        #expect(asked.detail.contains("supersedes=\(d.requests[0])"))
        #expect(d.requests[1] > d.requests[0])
        // The grace ended for this vehicle: a late grace fire shows nothing.
        d.feed(.fire(.unladenGrace), after: 20)
        #expect(d.last.map(summary) == ["journal input_ignored"])
        #expect(describe(d.lane.board) == "STOP AB1234 ack")
    }

    @Test("a shorter configured grace applies before and after arrival")
    func configuredGrace() {
        let settings = LaneSettings(
            lane: testSettings.lane, decisionTimeout: .milliseconds(1500), unladenGrace: .seconds(5))
        var lane = LaneStateMachine(settings: settings, open: true)
        _ = lane.handle(.buttonPressed(.unladen, kernelNanoseconds: 1), now: t0)
        let late = lane.handle(
            .vehicleArrived(plate("AB1234"), source: .reader), now: t0.addingTimeInterval(5.5))
        #expect(late.contains(.startTimer(.unladenGrace, after: .seconds(5))))
        #expect(late.contains(.startTimer(.decisionTimeout, after: .milliseconds(1500))))
        #expect(lane.board.unladenAcknowledged == false)
    }
}
