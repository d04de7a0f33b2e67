import Foundation
import GRDB
import LinkCore
import RoadCargo
import Testing

@testable import LaneLink

@Suite("Applied log")
struct AppliedLogTests {
    let lane = try! LaneID("LMC-IN-03")
    let otherLane = try! LaneID("LMC-OUT-01")

    /// A database with a table the effects write to, as central's store would.
    func makeDatabase() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE crossings (message_id INTEGER)") }
        return queue
    }

    func crossings(_ writer: any DatabaseWriter) throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM crossings") ?? 0 }
    }

    @Test func aMessageTakesEffectOnceHoweverOftenItArrives() throws {
        let queue = try makeDatabase()
        let log = try SQLiteAppliedLog(writer: queue)
        let record: (Database) throws -> Void = { db in
            try db.execute(sql: "INSERT INTO crossings VALUES (7)")
        }
        #expect(try log.applyOnce(lane: lane, messageID: 7, effect: record))
        #expect(try !log.applyOnce(lane: lane, messageID: 7, effect: record))
        #expect(try !log.applyOnce(lane: lane, messageID: 7, effect: record))
        #expect(try crossings(queue) == 1)
        #expect(try log.isApplied(lane: lane, messageID: 7))
        // Ids are per lane: the other lane's 7 is another message.
        #expect(try !log.isApplied(lane: otherLane, messageID: 7))
        #expect(try log.applyOnce(lane: otherLane, messageID: 7, effect: record))
        #expect(try crossings(queue) == 2)
    }

    @Test func aFailedEffectRecordsNothingAndChangesNothing() throws {
        let queue = try makeDatabase()
        let log = try SQLiteAppliedLog(writer: queue)
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try log.applyOnce(lane: lane, messageID: 9) { db in
                try db.execute(sql: "INSERT INTO crossings VALUES (9)")
                throw Refused()
            }
        }
        #expect(try crossings(queue) == 0)
        #expect(try !log.isApplied(lane: lane, messageID: 9))
        // Offered again, it applies.
        #expect(
            try log.applyOnce(lane: lane, messageID: 9) { db in
                try db.execute(sql: "INSERT INTO crossings VALUES (9)")
            })
        #expect(try crossings(queue) == 1)
    }

    @Test func appliedIdsSurviveReopeningTheFile() throws {
        let directory = try OutboxTemporaryDirectory()
        let path = directory.path("central.sqlite")
        do {
            let log = try SQLiteAppliedLog(path: path)
            #expect(try log.applyOnce(lane: lane, messageID: 1) { _ in })
        }
        let reopened = try SQLiteAppliedLog(path: path)
        #expect(try reopened.isApplied(lane: lane, messageID: 1))
        #expect(try !reopened.applyOnce(lane: lane, messageID: 1) { _ in Issue.record("applied twice") })
    }

    @Test func twoWritersOnOneFileApplyEachIdOnce() async throws {
        let directory = try OutboxTemporaryDirectory()
        let path = directory.path("central.sqlite")
        // Two pools stand for two processes racing on the same file.
        let logs = try [SQLiteAppliedLog(path: path), SQLiteAppliedLog(path: path)]
        try await logs[0].writer.write { db in
            try db.execute(sql: "CREATE TABLE crossings (message_id INTEGER)")
        }
        let applied = try await withThrowingTaskGroup(of: Bool.self) { group in
            for round in 0..<40 {
                let log = logs[round % 2]
                let id = UInt64(round / 4)  // each id offered four times, by both writers
                group.addTask {
                    try log.applyOnce(lane: lane, messageID: id) { db in
                        try db.execute(sql: "INSERT INTO crossings VALUES (?)", arguments: [Int64(id)])
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(applied == 10)
        #expect(try crossings(logs[1].writer) == 10)
    }

    @Test func forgettingOldIdsIsPerLane() throws {
        let log = try SQLiteAppliedLog(writer: DatabaseQueue())
        for id in UInt64(1)...5 {
            _ = try log.applyOnce(lane: lane, messageID: id) { _ in }
            _ = try log.applyOnce(lane: otherLane, messageID: id) { _ in }
        }
        #expect(try log.forget(lane: lane, below: 4) == 3)
        #expect(try !log.isApplied(lane: lane, messageID: 3))
        #expect(try log.isApplied(lane: lane, messageID: 4))
        #expect(try log.isApplied(lane: otherLane, messageID: 1))
    }

    @Test func applyOnceInsideTheCallersTransaction() throws {
        let queue = try makeDatabase()
        let log = try SQLiteAppliedLog(writer: queue)
        var applied = false
        try queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                applied = try log.applyOnce(in: db, lane: lane, messageID: 3) { db in
                    try db.execute(sql: "INSERT INTO crossings VALUES (3)")
                }
                return .rollback
            }
        }
        #expect(applied)
        // Rolled back with the caller: neither the effect nor the record stays.
        #expect(try crossings(queue) == 0)
        #expect(try !log.isApplied(lane: lane, messageID: 3))
    }
}
