import ClearanceCore
import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import PostgresTestSupport
import RoadCargo
import Testing

@testable import CargoStore

/// What SchemaTests checks of the SQLite file, for the PostgreSQL store:
/// its migrations, a database from a newer version, a lock held elsewhere.
@Suite("The PostgreSQL store's schema", .enabled(if: PostgresTestServer.isConfigured))
struct PostgresSchemaTests {
    static let logger = Logger(label: "test.postgres")

    func open(_ location: PostgresLocation) async throws -> PostgresCargoStore {
        try await PostgresCargoStore.open(
            location, password: PostgresTestServer.password, maximumConnections: 4, logger: Self.logger)
    }

    @Test(
        "four nodes starting at once on a new database apply store/v1 exactly once; reopening applies nothing"
    )
    func migratedOnce() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresCargoStore.self) { group in
            for _ in 0..<4 { group.addTask { try await open(location) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let steps = try await stores[0].rows("SELECT name FROM lanekiosk_migrations ORDER BY name")
            .map { try $0.text("name") }
        #expect(steps == ["store/v1"])
        let c = try await stores[1].submitConsignment(
            Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        let reopened = try await open(location)
        #expect(try await PostgresSchema.migrations.apply(to: reopened.database).isEmpty)
        #expect(try await reopened.consignment(c.ccrn) == c)
        for store in stores + [reopened] { await store.close() }
    }

    @Test("a database with a store step this build does not know is refused, naming the step")
    func newerRefused() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let first = try await open(location)
        _ = try await first.rows("INSERT INTO lanekiosk_migrations(name) VALUES ('store/v9')")
        await first.close()
        do {
            _ = try await open(location)
            Issue.record("a newer database was opened")
        } catch let error as PostgresSchemaError {
            #expect(error.description.contains("store/v9"))
            #expect(error.description.contains("newer LaneKiosk"))
        }
    }

    @Test("a bundle row locked by another connection while 8 lanes ask: still exactly one decision on it")
    func rowLockHeld() async throws {
        let store = try await open(try await PostgresTestServer.freshDatabase())
        let race = ClaimRaceTests()
        let bundle = try await race.bundled(store)
        let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        // A report or a maintenance script holding the row: the lanes'
        // claims wait for it, then one of them wins.
        let holder = Task {
            defer { lockedSignal.finish() }
            try await store.database.withDedicatedConnection { connection in
                try await connection.query("BEGIN", logger: Self.logger)
                try await connection.query(
                    "SELECT * FROM bundles WHERE ubr = \(Column.number(bundle.ubr)) FOR UPDATE",
                    logger: Self.logger)
                lockedSignal.yield()
                for await _ in release { break }
                try await connection.query("COMMIT", logger: Self.logger)
            }
        }
        for await _ in locked { break }
        async let decisions = race.race([store], round: 0)
        // Let go once every lane's request is in the database, waiting.
        try await eventuallyWaiting(store, atLeast: 1)
        releaseSignal.finish()
        try await holder.value
        try await race.expectOneClaim(try await decisions, bundle, store)
        await store.close()
    }

    @Test(
        "a node stalled inside a decision's transaction (cut off from the database) does not hold another node's decisions"
    )
    func stalledNodeReleased() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let stalled = try await open(location)
        let other = try await open(location)
        let race = ClaimRaceTests()
        let bundle = try await race.bundled(other)
        #expect(
            try await other.rows("SHOW idle_in_transaction_session_timeout")[0].text(
                "idle_in_transaction_session_timeout") == "5s")
        let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        // Node A takes the cache feed's lock as a decision does, then its
        // server hears nothing more: its network is gone.
        let holder = Task {
            try await stalled.transaction(lockingFeed: true) { db in
                lockedSignal.yield()
                for await _ in release { break }
                // The node's next statement, once its network is back.
                try await db.rows("SELECT 1", Self.logger)
            }
        }
        for await _ in locked { break }
        // Node B's lanes: without the server's timeout these wait for ever.
        let decisions = try await race.race([other], round: 0)
        try await race.expectOneClaim(decisions, bundle, other)
        releaseSignal.finish()
        // A's transaction was ended by the server: its next statement fails
        // at once (it does not hang, and nothing commits later).
        await #expect(throws: PostgresConnectionLost.self) { try await holder.value }
        await stalled.close()
        await other.close()
    }

    /// Waits (bounded) until `n` sessions of the database wait on a lock.
    /// On a connection of its own: the lanes' requests hold every pooled one.
    func eventuallyWaiting(_ store: PostgresCargoStore, atLeast n: Int) async throws {
        try await store.database.withDedicatedConnection { connection in
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let waiting = try await connection.rows(
                    """
                    SELECT count(*) AS n FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock'
                    """, Self.logger)[0].int("n")
                if waiting >= n { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("no lane request waited on the locked bundle within 30 s")
        }
    }
}
