import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import Testing

/// Rule 4 (no answer in time, offline mode), rule 5 (overrides), and answers
/// that come for the wrong request or at the wrong time.
@Suite("Decisions, timeouts, overrides and offline mode")
struct DecisionTests {
    static let timedOut = [
        "journal decision_timeout", "show SYSTEM_UNAVAILABLE AB1234",
        "report officer-alert SYSTEM_UNAVAILABLE",
    ]
    static let refused = ["journal input_ignored"]

    static let scenarios: [Scenario] = [
        Scenario(
            name: "no answer in time: SYSTEM_UNAVAILABLE and an officer alert; the late answer is then shown",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.fire(.decisionTimeout), timedOut, after: 2),
                step(
                    .decide(.cleared, .bundleOK), "journal decision_late", "cancel unladenGrace",
                    "show CLEARED/BUNDLE_OK AB1234", "journal instruction_shown", "report shown CLEARED",
                    after: 3),
            ], board: "CLEARED/BUNDLE_OK AB1234"),
        Scenario(
            name: "a late NO_BUNDLE answer within the grace is held like a timely one",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.fire(.decisionTimeout), timedOut, after: 2),
                step(
                    .decide(.inspect, .noBundle), "journal decision_late", "show STOP invite-unladen AB1234"),
                step(
                    .fire(.unladenGrace), "journal unladen_grace_ended", "show INSPECT/NO_BUNDLE AB1234",
                    "journal instruction_shown", "report shown INSPECT", after: 18),
            ], board: "INSPECT/NO_BUNDLE AB1234"),
        Scenario(
            name: "answers for unknown or old requests are journaled late and never shown",
            steps: [
                step(.decide(.cleared, .bundleOK, .unknown), "journal decision_late"),
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK, .unknown), "journal decision_late"),
            ], board: "STOP AB1234"),
        Scenario(
            name: "a second answer for a request already answered is journaled late",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
                step(.decide(.inspect, .random), "journal decision_late"),
            ], board: "CLEARED/BUNDLE_OK AB1234"),
        Scenario(
            name: "an answer that is not a decision (WELCOME, STOP, CLOSED) is refused; the timeout stands",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.welcome, .bundleOK), refused),
                step(.decide(.stop, .bundleOK), refused),
                step(.decide(.closed, .bundleOK), refused),
                step(.fire(.decisionTimeout), timedOut, after: 2),
            ], board: "SYSTEM_UNAVAILABLE AB1234"),
        Scenario(
            name: "timers that fire after they stopped mattering are journaled and ignored",
            steps: [
                step(.fire(.decisionTimeout), refused),
                step(.fire(.unladenGrace), refused),
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
                step(.fire(.decisionTimeout), refused),
                step(.fire(.unladenGrace), refused),
            ], board: "CLEARED/BUNDLE_OK AB1234"),
        Scenario(
            name: "an officer releases a vehicle sent to inspection",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.inspect, .random), shown("INSPECT/RANDOM AB1234", "INSPECT")),
                step(
                    .override(.cleared, .officerRelease), "journal override",
                    "show CLEARED/OFFICER_RELEASE AB1234", "journal instruction_shown", "report shown CLEARED"
                ),
                step(.leave, "journal vehicle_left", "report left AB1234", "show WELCOME"),
            ], board: "WELCOME"),
        Scenario(
            name: "an override keeps the bundle's UBR for the departure report",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
                step(
                    .override(.inspect, .officerDivert), "journal override",
                    "show INSPECT/OFFICER_DIVERT AB1234",
                    "journal instruction_shown", "report shown INSPECT"),
                step(.leave, "journal vehicle_left", "report left AB1234 ubr", "show WELCOME"),
            ], board: "WELCOME"),
        Scenario(
            name: "an override while SYSTEM_UNAVAILABLE decides; the late answer does not replace it",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.fire(.decisionTimeout), timedOut, after: 2),
                step(
                    .override(.inspect, .officerDivert), "cancel unladenGrace", "journal override",
                    "show INSPECT/OFFICER_DIVERT AB1234", "journal instruction_shown", "report shown INSPECT"),
                step(.decide(.cleared, .bundleOK), "journal decision_late"),
            ], board: "INSPECT/OFFICER_DIVERT AB1234"),
        Scenario(
            name: "overrides of another request, with no vehicle, or with a wrong pairing are refused",
            steps: [
                step(.override(.cleared, .officerRelease), refused),
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.override(.cleared, .officerRelease, .unknown), refused),
                step(.override(.cleared, .officerDivert), refused),
                step(.override(.inspect, .officerRelease), refused),
                step(.override(.cleared, .bundleOK), refused),
                step(.override(.welcome, .officerRelease), refused),
                step(.press(.unladen), UnladenTests.takenWithVehicle),
                step(.override(.cleared, .officerRelease, .issued(0)), refused),
            ], board: "STOP AB1234 ack"),
        Scenario(
            name: "offline mode switched on re-asks for a waiting vehicle from the bundle cache",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.fire(.decisionTimeout), timedOut, after: 2),
                step(
                    .offline(true), "journal offline_mode", "journal decision_requested",
                    "show STOP AB1234 offline",
                    "request offline", "start decisionTimeout 2s"),
                step(.offline(true), refused),
                step(.decide(.cleared, .bundleOK, .issued(0)), "journal decision_late"),
                step(
                    .decideOffline(.cleared, .bundleOK),
                    ["journal decision_received", "report offline-crossing AB1234 CLEARED"]
                        + shown("CLEARED/BUNDLE_OK AB1234 offline", "CLEARED").dropFirst()),
                step(.leave, "journal vehicle_left", "report left AB1234 ubr", "show WELCOME offline"),
                step(.arrive("CD5678"), arrival("CD5678", " offline", request: "request offline")),
                step(.offline(false), "journal offline_mode", "show STOP CD5678"),
            ], board: "STOP CD5678"),
        Scenario(
            name: "the link going down never switches offline mode on",
            steps: [
                step(.link(false), "journal link_down", "show WELCOME link-down"),
                step(.arrive("AB1234"), unavailableAtOnce("AB1234")),
            ], board: "SYSTEM_UNAVAILABLE AB1234 link-down"),
        Scenario(
            name: "the link known down: rule 4 at once; central's answer is still taken when it comes",
            steps: [
                step(.link(false), "journal link_down", "show WELCOME link-down"),
                step(.arrive("AB1234"), unavailableAtOnce("AB1234")),
                step(.link(true), "journal link_up", "show SYSTEM_UNAVAILABLE AB1234"),
                step(
                    .decide(.cleared, .bundleOK),
                    "journal decision_late", "cancel unladenGrace", "show CLEARED/BUNDLE_OK AB1234",
                    "journal instruction_shown", "report shown CLEARED"),
            ], board: "CLEARED/BUNDLE_OK AB1234"),
        Scenario(
            // A session that drops and comes back within the timeout (a
            // blip) still brings central's answer in time: no rule 4 early.
            name: "the link going down while a vehicle waits: the timeout still decides",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.link(false), "journal link_down", "show STOP AB1234 link-down"),
                step(.link(true), "journal link_up", "show STOP AB1234"),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
            ], board: "CLEARED/BUNDLE_OK AB1234"),
        Scenario(
            name: "offline mode with the link down: the lane decides, no rule 4 at once",
            steps: [
                step(.offline(true), "journal offline_mode", "show WELCOME offline"),
                step(.link(false), "journal link_down", "show WELCOME offline link-down"),
                step(
                    .arrive("AB1234"),
                    "journal arrival", "journal decision_requested", "show STOP AB1234 offline link-down",
                    "request offline", "start decisionTimeout 2s", "start unladenGrace 20s"),
            ], board: "STOP AB1234 offline link-down"),
        Scenario(
            name: "offline mode switched on with a decision shown does not ask again",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(.decide(.cleared, .bundleOK), shown("CLEARED/BUNDLE_OK AB1234", "CLEARED")),
                step(.offline(true), "journal offline_mode", "show CLEARED/BUNDLE_OK AB1234 offline"),
            ], board: "CLEARED/BUNDLE_OK AB1234 offline"),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: Scenario) { s.run() }

    @Test("the timeout is journaled as SYSTEM_UNAVAILABLE and the alert names lane, vehicle and request")
    func timeoutEntries() throws {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        d.feed(.fire(.decisionTimeout), after: 2)
        let entry = try #require(d.journal.first)
        #expect(entry.kind == .decisionTimeout && entry.reason == .systemUnavailable)
        #expect(entry.instruction == .stop && entry.requestID == d.requests[0])
        let alert = try #require(
            d.last.compactMap {
                if case .report(.officerAlert(let r, let text)) = $0 { (r, text) } else { nil }
            }
            .first)
        #expect(alert.0 == .systemUnavailable)
        #expect(
            alert.1.contains("LMC-IN-01") && alert.1.contains("AB1234")
                && alert.1.contains("\(d.requests[0])"))
        #expect(d.lane.pendingRequestID == d.requests[0])
        #expect(d.lane.phaseName == "system_unavailable")
    }

    @Test("an override is journaled with the officer's identity and text")
    func overrideEntry() throws {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        d.feed(.decide(.inspect, .random))
        d.feed(.override(.cleared, .officerRelease))
        let entry = try #require(d.journal.first)
        #expect(entry.kind == .override && entry.officer == "officer-2")
        #expect(entry.instruction == .cleared && entry.reason == .officerRelease)
        #expect(entry.detail.contains("text=\"seen the papers\""))
        #expect(entry.decisionID == 101)
        let last = try #require(d.lane.lastDecision)
        #expect(last.officer == "officer-2" && last.decision.reason == .officerRelease)
        // The override's report names the decision it replaced.
        #expect(d.last.contains(.report(.instructionShown(.cleared, decisionID: 101))))
    }

    @Test("a refused override says why, with the officer")
    func refusedOverrideEntry() throws {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        d.feed(.override(.cleared, .officerRelease, .unknown))
        let entry = try #require(d.journal.first)
        #expect(entry.kind == .inputIgnored && entry.officer == "officer-2")
        #expect(entry.detail.contains("refused"))
        #expect(entry.detail.contains("current request \(d.requests[0])"))
    }

    @Test("an answer for a superseded request says which request replaced it")
    func supersededAnswer() throws {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        d.feed(.press(.unladen))
        d.feed(.decide(.cleared, .bundleOK, .issued(0)))
        let entry = try #require(d.journal.first)
        #expect(entry.kind == .decisionLate && entry.vrn == plate("AB1234"))
        #expect(entry.detail == "why=\"superseded by request \(d.requests[1])\"")
    }
}
