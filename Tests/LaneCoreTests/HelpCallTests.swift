import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import Testing

/// The help call runs beside the vehicle flow and neither disturbs the other.
@Suite("Help call")
struct HelpCallTests {
    static let ring = [
        "journal button_pressed", "journal help_ring", "lamp help on", "show WELCOME help=ringing",
        "report help-ring", "report press help",
    ]
    static let ignored = ["journal input_ignored"]

    static let scenarios: [Scenario] = [
        Scenario(
            name: "a call rings, is answered, held, answered again and ended",
            steps: [
                step(.press(.help), ring),
                step(.release(.help), "journal button_released", "report release help"),
                step(.press(.help), "journal button_ignored", "report press help"),
                step(.answer, "journal help_answered", "show WELCOME help=connected", "voice on"),
                step(.answer, ignored),
                step(.message(3), "journal officer_message", "show WELCOME help=connected msg=3"),
                step(.hold, "journal help_held", "show WELCOME help=ringing msg=3", "voice off"),
                step(.hold, ignored),
                step(.answer, "journal help_answered", "show WELCOME help=connected msg=3", "voice on"),
                step(.press(.help), "journal button_ignored", "report press help"),
                step(.endOther, ignored),
                step(.end, "journal help_ended", "voice off", "lamp help off", "show WELCOME"),
                step(.end, ignored),
            ], board: "WELCOME"),
        Scenario(
            name: "an officer may hold a call before answering it; no voice until answered",
            steps: [
                step(.press(.help), ring),
                step(.hold, "journal help_held"),
                step(.answer, "journal help_answered", "show WELCOME help=connected", "voice on"),
            ], board: "WELCOME help=connected"),
        Scenario(
            name: "signals for another call, or with no call, are journaled and ignored",
            steps: [
                step(.answerOther, ignored),
                step(.messageOther, ignored),
                step(.endOther, ignored),
                step(.press(.help), ring),
                step(.answerOther, ignored),
                step(.messageOther, ignored),
            ], board: "WELCOME help=ringing"),
        Scenario(
            name: "a call during a vehicle's passage leaves the vehicle flow as it is",
            steps: [
                step(.arrive("AB1234"), arrival("AB1234")),
                step(
                    .press(.help), "journal button_pressed", "journal help_ring", "lamp help on",
                    "show STOP AB1234 help=ringing", "report help-ring", "report press help"),
                step(
                    .decide(.cleared, .bundleOK),
                    shown("CLEARED/BUNDLE_OK AB1234 help=ringing", "CLEARED")),
                step(
                    .answer, "journal help_answered", "show CLEARED/BUNDLE_OK AB1234 help=connected",
                    "voice on"),
                step(
                    .message(2), "journal officer_message",
                    "show CLEARED/BUNDLE_OK AB1234 help=connected msg=2"),
                step(
                    .leave, "journal vehicle_left", "report left AB1234 ubr", "show WELCOME help=connected"),
                step(.arrive("CD5678"), arrival("CD5678", " help=connected")),
                step(.end, "journal help_ended", "voice off", "lamp help off", "show STOP CD5678"),
            ], board: "STOP CD5678"),
        Scenario(
            name: "Help works at a closed lane",
            open: false,
            steps: [
                step(
                    .press(.help), "journal button_pressed", "journal help_ring", "lamp help on",
                    "show CLOSED help=ringing", "report help-ring", "report press help")
            ], board: "CLOSED help=ringing"),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: Scenario) { s.run() }

    @Test("each call gets a new id, and the id is journaled with the call")
    func callIDs() throws {
        var d = Driver()
        d.feed(.press(.help))
        let first = try #require(d.lane.helpCallID)
        #expect(d.journal.last?.callID == first)
        d.feed(.end)
        #expect(d.lane.helpCallID == nil)
        d.feed(.press(.help), after: 0)
        let second = try #require(d.lane.helpCallID)
        #expect(second > first)
        #expect(d.calls == [first, second])
    }

    @Test("the help call does not change the vehicle's request or timers")
    func helpDoesNotTouchVehicle() {
        var d = Driver()
        d.feed(.arrive("AB1234"))
        let before = d.lane.pendingRequestID
        for ev in [Ev.press(.help), .answer, .message(1), .hold, .end] {
            d.feed(ev)
            #expect(!d.last.contains { if case .requestDecision = $0 { true } else { false } })
            #expect(!d.last.contains { if case .startTimer = $0 { true } else { false } })
            #expect(!d.last.contains { if case .cancelTimer = $0 { true } else { false } })
        }
        #expect(d.lane.pendingRequestID == before)
        #expect(d.lane.board.phase == .stop(awaitingUnladen: false))
    }
}
