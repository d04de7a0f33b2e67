import Foundation
import GRDB
import LaneCore
import RoadCargo
import TestKit
import Testing

@testable import LaneJournal

/// kill -9 in the middle of journaling: this test binary runs itself as a
/// child that drives a lane and journals every input with its outbox message,
/// and is killed while it does.
@Suite("Journal under kill -9")
struct JournalKillTests {
    static let childVariable = "LANEJOURNAL_KILL_CHILD"
    static let seed: UInt64 = 2026

    /// The child's body. Does nothing unless the parent set the variable, so
    /// it passes trivially in a normal run.
    @Test func journalKillChild() async throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childVariable] else { return }
        let journal = try await LaneJournal.open(path: path, clock: SystemWallClock())
        let outbox = try MirrorOutbox(journal)
        var script = LaneScript(seed: Self.seed)
        // As the shell does: one transaction per input, its entries and a
        // message numbered by the input.
        for input in 0... {
            let entries = script.step()
            try journal.writer.writeNow { db in
                try journal.append(entries, at: script.now, in: db)
                try outbox.enqueue(in: db, topic: "input", payload: Array("\(input)".utf8))
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func committedEntriesSurviveSIGKILLAndRecoveryMatchesTheLane() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("lane.sqlite")
        let journal = try await LaneJournal.open(path: path, clock: SystemWallClock())
        _ = try MirrorOutbox(journal)

        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", "journalKillChild"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        // Watch from here until a good number of inputs committed.
        var seenSeq: Int64 = 0
        var seenInputs = 0
        _ = try await eventually(within: .seconds(60)) {
            seenSeq = try await journal.lastSequence() ?? 0
            seenInputs = try journal.writer.readNow { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM link_outbox") ?? 0
            }
            return seenInputs >= 300 || !child.isRunning
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        try #require(seenInputs >= 300, "the child journaled too little before the deadline")

        let after = try await LaneJournal.open(path: path, clock: SystemWallClock())
        let check = try after.writer.readNow { db in try String.fetchOne(db, sql: "PRAGMA integrity_check")
        }
        #expect(check == "ok")
        let records = try await after.tail(limit: 1_000_000)
        // Nothing the watcher saw is lost, and nothing is missing in between.
        #expect((records.last?.seq ?? 0) >= seenSeq)
        #expect(records.map(\.seq) == Array(1...Int64(records.count)))

        // Every input committed whole with its message, or not at all: the
        // messages are numbered 0..<n, and the journal is exactly what the same
        // lane writes for its first n inputs.
        let inputs = try after.writer.readNow { db in
            try String.fetchAll(db, sql: "SELECT CAST(payload AS TEXT) FROM link_outbox ORDER BY id")
        }
        #expect(inputs == (0..<inputs.count).map { "\($0)" })
        var replay = LaneScript(seed: Self.seed)
        var expected: [JournalEntry] = []
        for _ in 0..<inputs.count { expected += replay.step() }
        #expect(records.map(\.entry) == expected)

        // And the lane recovered from it is the lane as it was after input n.
        #expect(Snapshot(try await after.recover()) == replay.snapshot)
    }
}
