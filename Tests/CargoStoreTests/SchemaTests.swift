import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

@Suite("Schema, files and migrations")
struct SchemaTests {
    @Test("a fresh file is migrated to the current schema and marked as a LaneKiosk store")
    func freshFile() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try await SQLiteCargoStore.open(path: dir.appendingPathComponent("central.sqlite").path)
        let (appID, version, journal, complete) = try await store.writer.read { db in
            (
                try Int32.fetchOne(db, sql: "PRAGMA application_id"),
                try Int.fetchOne(db, sql: "PRAGMA user_version"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Schema.migrator.hasCompletedMigrations(db)
            )
        }
        #expect(appID == Schema.applicationID)
        #expect(version == Schema.version)
        #expect(journal == "wal")
        #expect(complete)
    }

    @Test("the writer connection syncs every commit (synchronous = FULL), as docs/store.md promises")
    func writerSyncsEveryCommit() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try await SQLiteCargoStore.open(path: dir.appendingPathComponent("central.sqlite").path)
        #expect(try await store.synchronousLevel() == 2)
    }

    @Test("reopening an existing file keeps its data and migrates nothing twice")
    func reopen() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("central.sqlite").path
        let ccrn: CCRN
        do {
            let store = try await SQLiteCargoStore.open(path: path)
            ccrn = try await store.submitConsignment(
                Fixture.submission(), by: Fixture.shipper, at: Fixture.t0
            ).ccrn
        }
        let reopened = try await SQLiteCargoStore.open(path: path)
        #expect(try await reopened.consignment(ccrn)?.submittedBy == "winning-co")
        #expect(
            try await reopened.writer.read { try Schema.migrator.appliedMigrations($0) } == [
                "v1", "v2", "v3", "v4", "v5",
            ])
    }

    @Test(
        "a v3 file is migrated to the current schema: bundles keep their rows, times become whole seconds, claims possible"
    )
    func fromV3() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("central.sqlite").path
        let ubr: UBR
        let ccrn: CCRN
        do {
            let v3 = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(v3, upTo: "v3")
            ubr = UBR(payload: 100_000_001)
            ccrn = CCRN(payload: 200_000_001)
            // A bundle completed at 22:56:44.700, as v3 stored it: milliseconds.
            let completed = Column.millis(Fixture.t0) + 700
            try await v3.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO bundles(ubr, vrn, direction, status, driver_name, driver_account,
                            completed_at, earliest_crossing) VALUES (?, 'VRN0912', 'import', 'active', 'Ho', 'driver-ho', ?, ?)
                        """, arguments: [Column.number(ubr), completed, completed + 1_800_000])
                try Rows.insert(
                    Consignment(
                        ccrn: ccrn, submission: Fixture.submission(), submittedBy: "winning-co",
                        submittedAt: Fixture.t0, validUntil: Fixture.today.advanced(by: 14), status: .bundled,
                        bundledIn: ubr), db)
                try db.execute(
                    sql: "INSERT INTO bundle_ccrns(ubr, position, ccrn) VALUES (?, 0, ?)",
                    arguments: [Column.number(ubr), Column.number(ccrn)])
            }
        }
        let store = try await SQLiteCargoStore.open(path: path)
        let b = try #require(try await store.bundle(ubr))
        #expect(b.ccrns == [ccrn])
        #expect(b.completedAt == Fixture.t0)
        #expect(b.earliestCrossing == Fixture.t0.addingTimeInterval(30 * 60 + 1))
        let arrival = b.earliestCrossing
        let crossing = try await store.decideCrossing(
            requestID: "r", claimant: "r", request: Fixture.request(at: arrival), policy: Fixture.policy,
            at: arrival)
        #expect(crossing.decision.reason == .bundleOK)
        #expect(try await store.bundle(ubr)?.status == .claimed)
        let violations = try await store.writer.read { db in try Array(db.foreignKeyViolations()).count }
        #expect(violations == 0)
    }

    @Test("a file from a newer version is refused with a clear error, and left alone")
    func futureFile() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let byVersion = dir.appendingPathComponent("version.sqlite").path
        let byMigration = dir.appendingPathComponent("migration.sqlite").path
        _ = try await SQLiteCargoStore.open(path: byVersion)
        _ = try await SQLiteCargoStore.open(path: byMigration)
        try await DatabaseQueue(path: byVersion).write { try $0.execute(sql: "PRAGMA user_version = 6") }
        try await DatabaseQueue(path: byMigration).write {
            try $0.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES ('v2-lane-cache')")
        }
        do {
            _ = try await SQLiteCargoStore.open(path: byVersion)
            Issue.record("newer file opened")
        } catch let StoreError.incompatible(why) {
            #expect(why.contains("newer LaneKiosk"))
            #expect(why.contains("schema version 6"))
        }
        do {
            _ = try await SQLiteCargoStore.open(path: byMigration)
            Issue.record("newer file opened")
        } catch let StoreError.incompatible(why) {
            #expect(why.contains("v2-lane-cache"))
        }
        #expect(
            try await DatabaseQueue(path: byVersion).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
                == 6)
    }

    @Test(
        "a v1 file is migrated to the current schema: accounts and their tokens kept, immigration accounts possible"
    )
    func fromV1() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("central.sqlite").path
        let token: String
        do {
            let v1 = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(v1, upTo: "v1")
            token = Tokens.generate()
            try await v1.write { db in
                try db.execute(
                    sql: "INSERT INTO accounts(name, role, control_point, token_hash) VALUES (?, ?, ?, ?)",
                    arguments: ["officer-chan", "officer", "LMC", Tokens.hash(token)])
                // v1's CHECK knows no immigration role.
                #expect(throws: DatabaseError.self) {
                    try db.execute(
                        sql: "INSERT INTO accounts(name, role, token_hash) VALUES ('imm', 'immigration', 'h')"
                    )
                }
            }
        }
        let store = try await SQLiteCargoStore.open(path: path)
        #expect(try await store.account(forToken: token) == Fixture.officer)
        let immigration = Account(name: "imm-lmc", role: .immigration, controlPoint: .lokMaChau)
        let issued = try await store.addAccount(immigration)
        #expect(try await store.account(forToken: issued) == immigration)
        #expect(
            try await store.writer.read { try Schema.migrator.appliedMigrations($0) } == [
                "v1", "v2", "v3", "v4", "v5",
            ])
        #expect(
            try await store.writer.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } == Schema.version
        )
        // v3: the migrated officer can be given a console password and a session.
        try await store.setPasswordHash("scrypt$stub", for: "OFFICER-CHAN", at: Fixture.t0)
        #expect(try await store.passwordHash(for: "officer-chan")?.account == Fixture.officer)
        await #expect(throws: StoreError.self) {
            try await store.setPasswordHash("scrypt$stub", for: "nobody", at: Fixture.t0)
        }
    }

    @Test("another application's SQLite file and a file that is not SQLite are refused")
    func foreignFiles() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let other = dir.appendingPathComponent("other.sqlite").path
        try await DatabaseQueue(path: other).write { try $0.execute(sql: "CREATE TABLE t(x)") }
        await #expect(throws: StoreError.self) { try await SQLiteCargoStore.open(path: other) }
        #expect(try await DatabaseQueue(path: other).read { try $0.tableExists("bundles") } == false)

        let text = dir.appendingPathComponent("notes.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: text)
        do {
            _ = try await SQLiteCargoStore.open(path: text.path)
            Issue.record("text file opened")
        } catch let StoreError.incompatible(why) {
            #expect(why.contains("not an SQLite database"))
        }
    }

    @Test("the active-bundle lookup is one index search, no scan, also with many bundles per VRN")
    func activeBundlePlan() async throws {
        let store = try SQLiteCargoStore.inMemory()
        // Many ended bundles for few VRNs, then statistics, so the planner
        // has every reason to consider the other index.
        try await store.writer.write { db in
            for i in 0..<2000 {
                let b = CargoBundle(
                    ubr: UBR(payload: UInt64(100_000_000 + i)), driverName: "d", driverAccount: "d",
                    vrn: try VRN("AB\(i % 7)"), direction: i % 2 == 0 ? .inbound : .outbound,
                    expectedControlPoint: nil, ccrns: [], completedAt: Fixture.t0,
                    earliestCrossing: Fixture.t0,
                    status: i < 14 ? .active : .used, endedAt: i < 14 ? nil : Fixture.t0)
                try Rows.insert(b, db)
            }
            try db.execute(sql: "ANALYZE")
        }
        let plan = try await store.writer.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + Schema.activeBundleSQL, arguments: ["AB1", "import"]
            )
            .map { $0["detail"] as String }
        }
        #expect(plan == ["SEARCH bundles USING INDEX bundles_active_by_vrn (vrn=? AND direction=?)"])
        #expect(try await store.activeBundle(vrn: try VRN("AB1"), direction: .outbound)?.vrn.value == "AB1")
    }

    @Test("every query a decision runs is a keyed search")
    func decisionQueriesPlans() async throws {
        let store = try SQLiteCargoStore.inMemory()
        let queries = [
            "SELECT * FROM consignments WHERE ccrn = 1",
            "SELECT ccrn FROM bundle_ccrns WHERE ubr = 1 ORDER BY position",
            "SELECT 1 FROM watch_list WHERE kind = 'vrn' AND value = 'X' LIMIT 1",
            "SELECT * FROM crossings WHERE request_id = 'x'",
            "SELECT * FROM accounts WHERE token_hash = 'x'",
            // A lane's offline cache: its direction's active bundles, by their own index.
            "SELECT * FROM bundles WHERE direction = 'import' AND status = 'active' ORDER BY ubr",
        ]
        for sql in queries {
            let plan = try await store.writer.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
            #expect(plan.count == 1 && plan[0].hasPrefix("SEARCH"), "\(sql): \(plan)")
        }
    }
}
