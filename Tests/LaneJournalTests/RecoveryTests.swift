import Foundation
import GRDB
import LaneCore
import RoadCargo
import Testing

@testable import LaneJournal

@Suite("Recovery from the journal")
struct RecoveryTests {
    let directory: TemporaryDirectory
    let journal: LaneJournal
    let clock = SimulatedWallClock(morning)

    init() async throws {
        directory = try TemporaryDirectory()
        journal = try await LaneJournal.open(path: directory.path("lane.sqlite"), clock: clock)
    }

    /// Feeds inputs to a fresh machine, appending each input's entries in one
    /// transaction, one second apart.
    func run(_ inputs: [LaneInput], machine: inout LaneStateMachine) async throws {
        for input in inputs {
            let now = clock.advance(by: 1)
            let entries = machine.handle(input, now: now).compactMap { action -> JournalEntry? in
                if case .journal(let e) = action { return e }
                return nil
            }
            try await journal.append(entries, at: now)
        }
    }

    @Test func anEmptyJournalIsAClosedLaneWithNothingOpen() async throws {
        let r = try await journal.recover()
        #expect(r == RecoveredLane(open: false))
    }

    @Test func aShownDecisionComesBackWholeWithItsEarliestCrossingAndUBR() async throws {
        var m = LaneStateMachine(settings: settings, open: false)
        try await run(
            [.open(officer: "chan"), .vehicleArrived(vrn("AB1234"), source: .central)], machine: &m)
        let request = try #require(m.pendingRequestID)
        let early = Decision(
            instruction: .inspect, reason: .earlyCrossing, ubr: UBR(payload: 12_345_678),
            earliestCrossing: morning.addingTimeInterval(1800.123_456))
        try await run([.decisionReceived(requestID: request, decisionID: 41, decision: early)], machine: &m)

        let r = try await journal.recover()
        #expect(r.open)
        let v = try #require(r.vehicle)
        #expect(v.vrn == vrn("AB1234"))
        #expect(JournalTime.micros(v.arrivedAt) == JournalTime.micros(morning.addingTimeInterval(2)))
        #expect(!v.unladenPressed)
        #expect(v.shown == RecoveredLane.ShownDecision(requestID: request, decisionID: 41, decision: early))
        #expect(r.lastRequestID == request)
    }

    @Test func aVehicleWaitingForItsDecisionComesBackWithoutOne() async throws {
        var m = LaneStateMachine(settings: settings, open: true)
        try await run(
            [
                .vehicleArrived(vrn("CD5678"), source: .reader),
                .buttonPressed(.unladen, kernelNanoseconds: 5),
                .timerFired(.decisionTimeout),
            ], machine: &m)
        let r = try await journal.recover()
        let v = try #require(r.vehicle)
        #expect(v.vrn == vrn("CD5678"))
        #expect(v.unladenPressed)
        #expect(v.shown == nil)
        // The press asked again: the second request is the last one.
        #expect(r.lastRequestID == m.lastRequestID)
    }

    @Test func aPressBeforeArrivalIsCarriedByTheArrival() async throws {
        var m = LaneStateMachine(settings: settings, open: true)
        try await run(
            [.buttonPressed(.unladen, kernelNanoseconds: 5), .vehicleArrived(vrn("XY9"), source: .central)],
            machine: &m)
        #expect(try await journal.recover().vehicle?.unladenPressed == true)
    }

    @Test func aVehicleThatLeftOrAClosedLaneLeavesNoVehicle() async throws {
        var m = LaneStateMachine(settings: settings, open: true)
        try await run([.vehicleArrived(vrn("XY9"), source: .central), .vehicleLeft], machine: &m)
        #expect(try await journal.recover().vehicle == nil)
        try await run(
            [.vehicleArrived(vrn("AB1234"), source: .central), .close(officer: "chan")], machine: &m)
        let r = try await journal.recover()
        #expect(r.vehicle == nil)
        #expect(!r.open)
    }

    @Test func offlineModeAndAnOpenHelpCallComeBack() async throws {
        var m = LaneStateMachine(settings: settings, open: true)
        try await run(
            [.offlineMode(on: true, officer: "lee"), .buttonPressed(.help, kernelNanoseconds: 9)], machine: &m
        )
        let call = try #require(m.helpCallID)
        var r = try await journal.recover()
        #expect(r.offline)
        #expect(r.helpCallID == call)
        try await run([.helpAnswered(callID: call, officer: "ho"), .helpEnded(callID: call)], machine: &m)
        try await run([.offlineMode(on: false, officer: "lee")], machine: &m)
        r = try await journal.recover()
        #expect(!r.offline)
        #expect(r.helpCallID == nil)
    }

    @Test func aStrayAnswerWithAHugeRequestIDDoesNotMoveTheLastRequestID() async throws {
        var m = LaneStateMachine(settings: settings, open: true)
        try await run([.vehicleArrived(vrn("AB1234"), source: .central)], machine: &m)
        let issued = m.lastRequestID
        try await run(
            [
                .decisionReceived(
                    requestID: .max, decisionID: .max, decision: LaneScript.decisions(at: morning)[0])
            ],
            machine: &m)
        let r = try await journal.recover()
        #expect(r.lastRequestID == issued)
        // The id survives the trip through SQLite's signed integers.
        let late = try #require(
            try await journal.tail(limit: 5).last(where: { $0.kind == "decision_late" })?.entry)
        #expect(late.requestID == .max && late.decisionID == .max)
    }

    @Test func entriesOfAKindThisVersionDoesNotKnowAreShownAndSkipped() async throws {
        var m = LaneStateMachine(settings: settings, open: false)
        try await run([.open(officer: "chan")], machine: &m)
        try journal.writer.writeNow { db in
            try db.execute(
                sql: "INSERT INTO journal (at, kind, detail) VALUES (1, 'lane_teleported', 'to=mars')")
        }
        let last = try #require(try await journal.tail(limit: 1).first)
        #expect(last.kind == "lane_teleported" && last.entry == nil)
        #expect(try await journal.recover().open)
    }

    /// kill -9 can stop a lane between any two of its appends (each input's
    /// entries are one transaction). Cutting a journal written by the real
    /// state machine after every input must recover exactly the lane the
    /// machine had after that input; and a lane restarted from it must go on.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func aJournalCutAfterAnyInputRecoversTheLaneAsItWas(seed: UInt64) async throws {
        var script = LaneScript(seed: seed)
        var cuts: [(seq: Int64, expected: Snapshot)] = [(0, script.snapshot)]
        var restarts = 0
        // Inputs' entries go in one transaction per input in production; here
        // a run of inputs shares one to keep the test quick. The cuts below
        // fall between inputs either way.
        var batches: [(entries: [JournalEntry], at: Date, expected: Snapshot)] = []
        func flush() async throws {
            let seqs = try journal.writer.writeNow { db in
                try batches.map { try journal.append($0.entries, at: $0.at, in: db).last ?? 0 }
            }
            cuts += zip(seqs, batches).map { ($0, $1.expected) }
            batches = []
        }
        for step in 0..<300 {
            let entries = script.step()
            #expect(!entries.isEmpty, "every input is journaled")
            batches.append((entries, script.now, script.snapshot))
            if step % 97 == 96 {
                // A restart mid-run: the lane comes back from its journal and
                // journals what it did; recovery must see through that too.
                try await flush()
                batches.append(
                    (script.restart(from: try await journal.recover()), script.now, script.snapshot))
                restarts += 1
            }
        }
        try await flush()
        #expect(restarts == 3)
        // The scripts must reach the states recovery is about.
        #expect(cuts.contains { $0.expected.shown != nil })
        #expect(cuts.contains { $0.expected.vrn != nil && $0.expected.shown == nil })
        #expect(cuts.contains { $0.expected.helpCallID != nil })
        #expect(cuts.contains { $0.expected.offline })
        #expect(cuts.contains { $0.expected.unladen == true })

        #expect(Snapshot(try await journal.recover()) == cuts.last?.expected)
        // Cutting the file back commits once, not once per cut: the same fold
        // `recover()` runs, inside the transaction that cuts.
        let recoveries = try journal.writer.writeNow { db in
            try cuts.reversed().map { cut in
                try db.execute(sql: "DELETE FROM journal WHERE seq > ?", arguments: [cut.seq])
                return try JournalRecovery.load(db).recovered
            }
        }
        for (cut, recovered) in zip(cuts.reversed(), recoveries) {
            #expect(Snapshot(recovered) == cut.expected, "cut after seq \(cut.seq)")

            // The lane that comes back is safe: a vehicle without a shown
            // decision gets STOP and a new request above every earlier id.
            let (m, actions) = LaneStateMachine.recovering(
                settings: settings, from: recovered, now: script.now.addingTimeInterval(5))
            if recovered.open, let v = recovered.vehicle, v.shown == nil {
                let asked = actions.compactMap { a -> LaneDecisionRequest? in
                    if case .requestDecision(let r) = a { return r }
                    return nil
                }
                #expect(
                    asked.count == 1 && asked[0].vrn == v.vrn && asked[0].requestID > recovered.lastRequestID)
                #expect(m.phaseName == "stop")
            }
            if recovered.open, let v = recovered.vehicle, let shown = v.shown {
                #expect(m.lastDecision?.decision == shown.decision)
                #expect(!actions.contains { if case .requestDecision = $0 { true } else { false } })
            }
        }
    }
}
