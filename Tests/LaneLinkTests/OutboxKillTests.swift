import Foundation
import GRDB
import LinkCore
import TestKit
import Testing

@testable import LaneLink

/// kill -9 in the middle of writes: this test binary runs itself as a child
/// that enqueues in a loop, and is killed while it does.
@Suite("Outbox under kill -9")
struct OutboxKillTests {
    static let childVariable = "LANELINK_OUTBOX_KILL_CHILD"

    /// The child's body. Does nothing unless the parent set the variable, so
    /// it passes trivially in a normal run.
    @Test func outboxKillChild() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childVariable] else { return }
        let outbox = try SQLiteOutbox(path: path, retention: .deleteAcknowledged)
        // Batches of five rows per transaction, as fast as it can: after the
        // kill every batch must be whole or absent.
        for batch in 0... {
            try outbox.writer.write { db in
                for _ in 0..<5 {
                    _ = try outbox.enqueue(
                        in: db, topic: "batch-\(batch)", payload: [UInt8](repeating: 0x5A, count: 200))
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func committedMessagesSurviveSIGKILL() async throws {
        let directory = try OutboxTemporaryDirectory()
        let path = directory.path("lane.sqlite")
        _ = try SQLiteOutbox(path: path)  // create the file before anyone reads it

        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", "outboxKillChild"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        // Watch the file from here until a good number of batches committed.
        let watcher = try SQLiteOutbox(path: path)
        var seen: [OutboxMessage] = []
        _ = try await eventually(within: .seconds(30)) {
            seen = try watcher.pending()
            return seen.count >= 300 || !child.isRunning
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        try #require(seen.count >= 300, "the child wrote too little before the deadline")

        let after = try SQLiteOutbox(path: path).pending()
        // Nothing the watcher saw committed is lost...
        #expect(Set(seen.map(\.id)).isSubset(of: after.map(\.id)))
        // ...every batch is whole, none half-written...
        for (topic, rows) in Dictionary(grouping: after, by: \.topic) {
            #expect(rows.count == 5, "\(topic) has \(rows.count) rows")
        }
        // ...the ids run without a gap, as the commits did, and the file is sound.
        let ids = after.map(\.id)
        #expect(ids == Array(ids.first!...ids.last!))
        let check = try await DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "PRAGMA integrity_check")
        }
        #expect(check == "ok")
    }
}
