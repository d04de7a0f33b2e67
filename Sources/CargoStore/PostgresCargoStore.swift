import ClearanceCore
import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import RoadCargo

/// Central's store in a PostgreSQL database, through PostgresNIO: what
/// several clearanced nodes share (docs/store.md, "The PostgreSQL store").
///
/// The same behaviour as ``SQLiteCargoStore``, call for call; the same
/// ClearanceCore rules and ``StoreRules`` decide. Where SQLite serialises
/// writers by `BEGIN IMMEDIATE`, every write here runs in a `SERIALIZABLE`
/// transaction, retried (whole, rules included) when PostgreSQL reports a
/// serialization failure or a deadlock: a transaction commits only if it
/// could have run alone, so check and change stay atomic across nodes. The
/// claim of a bundle is the same one conditional `UPDATE ... WHERE status =
/// 'active'` as in SQLite. Reads of more than one statement run in one
/// `REPEATABLE READ READ ONLY` snapshot.
public final class PostgresCargoStore: CargoRepository {
    /// The pool; this package's tests and the store copy use it directly.
    package let database: PostgresPool
    let logger: Logger

    /// How often a write is tried when PostgreSQL keeps finding it in
    /// conflict with others; a write still failing then is reported.
    static let maximumAttempts = 40

    /// A store on an open pool; applies the store's schema steps first.
    /// - Throws: `PostgresSchemaError` for a database a newer LaneKiosk wrote.
    public init(database: PostgresPool) async throws {
        self.database = database
        self.logger = database.logger
        try await PostgresSchema.migrations.apply(to: database)
    }

    /// Opens a pool on `location` and the store on it; ``close()`` stops the pool.
    public static func open(
        _ location: PostgresLocation, password: PostgresPasswordSource, maximumConnections: Int = 20,
        logger: Logger
    ) async throws -> PostgresCargoStore {
        let pool = try await PostgresPool.open(
            location, password: password, maximumConnections: maximumConnections, logger: logger)
        do {
            return try await PostgresCargoStore(database: pool)
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Where the store is (no password in it).
    public var location: PostgresLocation { database.location }

    /// Closes the pool; the store answers no more calls.
    public func close() async {
        await database.close()
    }

    /// One trivial query: the watchdog's probe that the store still answers.
    public func ping() async throws {
        try await database.client.query("SELECT 1", logger: logger)
    }

    // MARK: Transactions

    /// Runs `body` in one SERIALIZABLE transaction, committed if it returns
    /// and rolled back if it throws; run again from the start (a new
    /// snapshot) when PostgreSQL reports it conflicted with another.
    ///
    /// `lockingFeed` first takes `cache_feed` in EXCLUSIVE mode, for the
    /// calls that change what lanes cache: they all move the feed's one
    /// head row, and two transactions updating one row under SERIALIZABLE
    /// fail one of them, so they are made to queue instead, as SQLite's
    /// writers do. LOCK TABLE takes no snapshot, so the snapshot is taken
    /// after the lock is granted and sees the previous holder's commit.
    @discardableResult
    func transaction<T: Sendable>(
        lockingFeed: Bool = false, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await inTransaction("BEGIN ISOLATION LEVEL SERIALIZABLE") { connection in
                    if lockingFeed {
                        try await connection.query("LOCK TABLE cache_feed IN EXCLUSIVE MODE", logger: logger)
                    }
                    return try await body(connection)
                }
            } catch  where Self.isRetryable(error) && attempt < Self.maximumAttempts {
                attempt += 1
                // Jittered and growing, so that the conflicting writers do
                // not meet again at once.
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(2 << min(attempt, 6)))))
            }
        }
    }

    /// Serialization failure (40001) or deadlock (40P01): nothing was
    /// written, and the same transaction may succeed when run again.
    static func isRetryable(_ error: any Error) -> Bool {
        let state = PostgresErrors.sqlState(error)
        return state == "40001" || state == "40P01"
    }

    /// Runs `body` in a READ COMMITTED transaction holding `table` locked
    /// against every other writer of it (readers go on): for a writer that
    /// numbers from the table's last row, such as a cache push's
    /// generation. As SERIALIZABLE transactions, 200 lanes linking at once
    /// made writers that all read the same last row: all but one were
    /// rolled back each round and retried with back-off (the million-bundle
    /// bench logged 2,624 serialization failures in its first minutes of
    /// pushes). Here they queue on the lock, and each statement after it
    /// sees the rows committed before: no failures, no retries.
    func serialised<T: Sendable>(on table: String, _ body: (PostgresConnection) async throws -> T)
        async throws -> T
    {
        try await inTransaction("BEGIN ISOLATION LEVEL READ COMMITTED") { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "LOCK TABLE \(table) IN SHARE ROW EXCLUSIVE MODE"), logger: logger)
            return try await body(connection)
        }
    }

    /// Runs `body` in one read-only snapshot.
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// Runs `body` on one pooled connection between `begin` and COMMIT,
    /// or ROLLBACK when it throws.
    private func inTransaction<T: Sendable>(
        _ begin: PostgresQuery, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await database.client.withConnection { connection in
            try await connection.rows(begin, logger)
            do {
                let result = try await body(connection)
                try await connection.rows("COMMIT", logger)
                return result
            } catch {
                // A closed connection has nothing to roll back (the server
                // did), and a query on it would never return.
                if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }

    /// The rows of one statement, outside any transaction of ours.
    func rows(_ query: PostgresQuery) async throws -> [PGRow] {
        try await database.client.withConnection { try await $0.rows(query, logger) }
    }

    // MARK: Consignments

    public func submitConsignment(_ submission: ConsignmentSubmission, by account: Account, at now: Date)
        async throws -> Consignment
    {
        let kind = try StoreRules.submitterKind(account)
        let now = SQLiteCargoStore.normalised(now)
        try SubmissionRules.validate(submission, submittedAt: now, by: kind)
        return try await transaction { db in
            try await Self.insertNew(submission, by: account.name, at: now, db, logger)
        }
    }

    public func submitBatch(_ submissions: [ConsignmentSubmission], by account: Account, at now: Date)
        async throws -> [BatchRecordResult]
    {
        let kind = try StoreRules.submitterKind(account)
        let now = SQLiteCargoStore.normalised(now)
        try StoreRules.checkBatchSize(submissions)
        return try await transaction { db in
            var results: [BatchRecordResult] = []
            results.reserveCapacity(submissions.count)
            for submission in submissions {
                do {
                    try SubmissionRules.validate(submission, submittedAt: now, by: kind)
                    // A savepoint per record, as in SQLite: a record that
                    // fails half-way is undone alone.
                    try await db.query("SAVEPOINT record", logger: logger)
                    let accepted: Consignment
                    do {
                        accepted = try await Self.insertNew(submission, by: account.name, at: now, db, logger)
                    } catch {
                        try await db.query("ROLLBACK TO SAVEPOINT record", logger: logger)
                        throw error
                    }
                    try await db.query("RELEASE SAVEPOINT record", logger: logger)
                    results.append(.accepted(accepted))
                } catch let failure as ValidationFailure {
                    results.append(.refused(failure.issues))
                }
            }
            return results
        }
    }

    public func consignment(_ ccrn: CCRN) async throws -> Consignment? {
        try await database.client.withConnection { try await PGRows.consignment($0, ccrn, logger) }
    }

    public func amendConsignment(
        _ ccrn: CCRN, to submission: ConsignmentSubmission, by account: Account, at now: Date
    ) async throws -> Consignment {
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction(lockingFeed: true) { db in
            let current = try StoreRules.own(
                try await PGRows.consignment(db, ccrn, logger), ccrn, account, action: "amend")
            try SubmissionRules.checkAmend(
                current, to: submission, at: now, by: StoreRules.amendingKind(account, current))
            try await PGRows.updateSubmission(ccrn, submission, amendedAt: now, db, logger)
            return try await PGRows.consignment(db, ccrn, logger)!
        }
    }

    public func withdrawConsignment(_ ccrn: CCRN, by account: Account, at now: Date) async throws
        -> Consignment
    {
        try await transaction(lockingFeed: true) { db in
            let current = try StoreRules.own(
                try await PGRows.consignment(db, ccrn, logger), ccrn, account, action: "withdraw")
            try SubmissionRules.checkWithdraw(current)
            try await PGRows.setStatus(ccrn, .withdrawn, bundledIn: nil, db, logger)
            return try await PGRows.consignment(db, ccrn, logger)!
        }
    }

    private static func insertNew(
        _ submission: ConsignmentSubmission, by accountName: String, at now: Date, _ db: PostgresConnection,
        _ logger: Logger
    ) async throws -> Consignment {
        let ccrn = Column.ccrn(
            try await NumberAllocator.allocate(.ccrn, in: db, atMillis: Column.millis(now), logger))
        let consignment = Consignment(
            ccrn: ccrn, submission: submission, submittedBy: accountName, submittedAt: now,
            validUntil: SubmissionRules.validUntil(submittedAt: now))
        try await PGRows.insert(consignment, db, logger)
        return try await PGRows.consignment(db, ccrn, logger)!
    }

    // MARK: Bundles

    public func createBundle(_ request: BundleRequest, by account: Account, at now: Date) async throws
        -> CargoBundle
    {
        try StoreRules.checkCreatesBundles(account)
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction(lockingFeed: true) { db in
            var consignments: [CCRN: Consignment] = [:]
            for ccrn in request.ccrns where consignments[ccrn] == nil {
                consignments[ccrn] = try await PGRows.consignment(db, ccrn, logger)
            }
            var active = try await PGRows.activeBundle(
                db, vrn: request.vrn, direction: request.direction, logger)
            if let found = active { active = try await Self.settleLapsedClaim(found, now: now, db, logger) }
            try BundlingRules.check(request, consignments: consignments, activeBundle: active, now: now)
            let ubr = Column.ubr(
                try await NumberAllocator.allocate(.ubr, in: db, atMillis: Column.millis(now), logger))
            let bundle = BundlingRules.complete(request, ubr: ubr, driverAccount: account.name, at: now)
            try await PGRows.insert(bundle, db, logger)
            for ccrn in bundle.ccrns {
                try await PGRows.setStatus(ccrn, .bundled, bundledIn: ubr, db, logger)
            }
            return try await PGRows.bundle(db, ubr, logger)!
        }
    }

    public func debundle(_ ubr: UBR, by account: Account, at now: Date) async throws -> CargoBundle {
        let now = SQLiteCargoStore.normalised(now)
        return try await transaction(lockingFeed: true) { db in
            guard let found = try await PGRows.bundle(db, ubr, logger) else {
                throw StoreError.notFound("UBR \(ubr)")
            }
            let bundle = try await Self.settleLapsedClaim(found, now: now, db, logger)
            try BundlingRules.checkDebundle(bundle, by: account.name, isOfficer: account.role == .officer)
            try await db.rows(
                "UPDATE bundles SET status = 'debundled', ended_at = \(Column.millis(now)) WHERE ubr = \(Column.number(ubr))",
                logger)
            for ccrn in bundle.ccrns {
                try await PGRows.setStatus(ccrn, .active, bundledIn: nil, db, logger)
            }
            return try await PGRows.bundle(db, ubr, logger)!
        }
    }

    public func bundle(_ ubr: UBR) async throws -> CargoBundle? {
        try await read { try await PGRows.bundle($0, ubr, logger) }
    }

    public func bundles(vrn: VRN) async throws -> [CargoBundle] {
        try await read { db in
            var out: [CargoBundle] = []
            for row in try await db.rows(
                "SELECT * FROM bundles WHERE vrn = \(vrn.value) ORDER BY completed_at DESC, ubr DESC", logger)
            {
                out.append(try await PGRows.bundle(from: row, db, logger))
            }
            return out
        }
    }

    public func activeBundle(vrn: VRN, direction: Direction) async throws -> CargoBundle? {
        try await read { try await PGRows.activeBundle($0, vrn: vrn, direction: direction, logger) }
    }

    public func crossings(vrn: VRN?, limit: Int) async throws -> [Crossing] {
        let limit = Int64(max(0, limit))
        let rows: [PGRow]
        if let vrn {
            rows = try await self.rows(
                "SELECT * FROM crossings WHERE vrn = \(vrn.value) ORDER BY id DESC LIMIT \(limit)")
        } else {
            rows = try await self.rows("SELECT * FROM crossings ORDER BY id DESC LIMIT \(limit)")
        }
        return try rows.map(RowMapping.crossing)
    }
}
