import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import ServiceSupport

/// Central's store in one SQLite file (WAL mode), through GRDB.
///
/// Every mutating call loads what the rules need, runs the ClearanceCore
/// check and writes the change in one `BEGIN IMMEDIATE` transaction, so no
/// other writer (in this process or another) can change the data between
/// check and write, and a refusal leaves the file exactly as it was. Reads
/// run on WAL snapshots and never wait for a writer.
///
/// Who may do what, beyond the rules:
/// - consignments are submitted by shipper and agent accounts only;
/// - only the submitting account or an officer amends or withdraws one;
/// - bundles are created by driver accounts only: a bundle is the driver's
///   own declaration of what the truck carries, so an officer does not make
///   one on the driver's behalf (an officer overrides at the lane instead);
/// - a bundle is debundled by the driver who made it or by an officer;
/// - watch-list entries are added by officers only.
public final class SQLiteCargoStore: CargoRepository {
    /// The database, for this package's benchmark and tests: raw SQL that
    /// bypasses the rules belongs nowhere else.
    package let writer: any DatabaseWriter

    /// Opens (creating if needed) the store at `path` and brings its schema up
    /// to date.
    ///
    /// - Throws: ``StoreError/incompatible(_:)`` when the file is not a
    ///   LaneKiosk store or was written by a newer version; a
    ///   `DatabaseError` when SQLite cannot open it at all.
    ///
    /// Opening reads and may migrate the file synchronously: async code uses
    /// ``open(path:)``, which does it off the cooperative pool (a debug build
    /// stops here when called from a task).
    public convenience init(path: String) throws {
        Blocking.assertNotOnCooperativePool("SQLiteCargoStore.init(path:) (opening \(path))")
        var config = Self.configuration()
        // A second process (a backup, the sqlite3 shell) may hold the write
        // lock briefly; wait for it rather than fail a driver's request.
        config.busyMode = .timeout(5)
        #if DEBUG
            StoreFreeze.install(in: &config)
        #endif
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.syncEveryCommit(pool)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError.incompatible("\(path) is not an SQLite database, so not a LaneKiosk store")
        }
        try self.init(writer: pool, describedAs: path)
    }

    /// ``init(path:)`` on the blocking queue, for async code (clearanced's
    /// start-up, the simulator, tests).
    public static func open(path: String) async throws -> SQLiteCargoStore {
        try await Blocking.run { try SQLiteCargoStore(path: path) }
    }

    /// A store that lives in memory only, for tests and dry runs; it is gone
    /// when the value is released.
    public static func inMemory() throws -> SQLiteCargoStore {
        try SQLiteCargoStore(writer: DatabaseQueue(configuration: configuration()), describedAs: "memory")
    }

    private init(writer: any DatabaseWriter, describedAs name: String) throws {
        self.writer = writer
        do {
            try writer.writeWithoutTransaction { db in try Self.checkCompatible(db, name) }
            try Schema.migrator.migrate(writer)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError.incompatible("\(name) is not an SQLite database, so not a LaneKiosk store")
        }
    }

    /// A committed CCRN must survive a power cut (else the number could be
    /// issued again, rule 4), so every commit is synced: `synchronous =
    /// FULL`. GRDB's pool sets NORMAL on its writer when it enters WAL mode,
    /// after any `prepareDatabase` hook, so it is set here on the open pool's
    /// one writer connection, which lives as long as the pool.
    private static func syncEveryCommit(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    }

    /// One trivial read (`SELECT 1`) through GRDB's async API: the
    /// watchdog's probe that the store still answers.
    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL, 1 NORMAL):
    /// what `docs/store.md` promises, read back from the live connection.
    public func synchronousLevel() async throws -> Int {
        try await writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.label = "CargoStore"
        return config
    }

    /// Refuses files that are not ours or come from a newer schema, before
    /// the migrator touches them: migrating someone else's database, or
    /// running old code on a newer schema, would corrupt data quietly.
    private static func checkCompatible(_ db: Database, _ name: String) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let userVersion = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let tables =
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            ?? 0
        if applicationID != Schema.applicationID && (applicationID != 0 || tables > 0) {
            throw StoreError.incompatible(
                "\(name) is an SQLite database but not a LaneKiosk store (application_id \(applicationID))")
        }
        let migrator = Schema.migrator
        let superseded = tables > 0 ? try migrator.hasBeenSuperseded(db) : false
        if userVersion > Schema.version || superseded {
            let unknown = try migrator.appliedIdentifiers(db).subtracting(
                migrator.migrations
            ).sorted()
            throw StoreError.incompatible(
                "\(name) was written by a newer LaneKiosk (schema version \(userVersion)"
                    + (unknown.isEmpty ? "" : ", migrations \(unknown.joined(separator: ", "))")
                    + "); this build knows up to version \(Schema.version). Run the newer clearanced, or restore a backup made by this one"
            )
        }
    }

    /// Runs `body` in one immediate write transaction: committed if it
    /// returns, rolled back (leaving the store untouched) if it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws
        -> T
    {
        try await writer.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    // MARK: Consignments

    public func submitConsignment(_ submission: ConsignmentSubmission, by account: Account, at now: Date)
        async throws -> Consignment
    {
        let kind = try StoreRules.submitterKind(account)
        let now = Self.normalised(now)
        try SubmissionRules.validate(submission, submittedAt: now, by: kind)
        return try await transaction { db in
            try Self.insertNew(submission, by: account.name, at: now, db)
        }
    }

    public func submitBatch(_ submissions: [ConsignmentSubmission], by account: Account, at now: Date)
        async throws -> [BatchRecordResult]
    {
        let kind = try StoreRules.submitterKind(account)
        let now = Self.normalised(now)
        try StoreRules.checkBatchSize(submissions)
        return try await transaction { db in
            var results: [BatchRecordResult] = []
            results.reserveCapacity(submissions.count)
            for submission in submissions {
                do {
                    try SubmissionRules.validate(submission, submittedAt: now, by: kind)
                    var accepted: Consignment?
                    // A savepoint per record: a record that fails half-way
                    // (or a later change here that writes before checking)
                    // is undone alone.
                    try db.inSavepoint {
                        accepted = try Self.insertNew(submission, by: account.name, at: now, db)
                        return .commit
                    }
                    results.append(.accepted(accepted!))
                } catch let failure as ValidationFailure {
                    results.append(.refused(failure.issues))
                }
            }
            return results
        }
    }

    public func consignment(_ ccrn: CCRN) async throws -> Consignment? {
        try await writer.read { db in try Rows.consignment(db, ccrn) }
    }

    public func amendConsignment(
        _ ccrn: CCRN, to submission: ConsignmentSubmission, by account: Account, at now: Date
    ) async throws -> Consignment {
        let now = Self.normalised(now)
        return try await transaction { db in
            let current = try Self.ownConsignment(ccrn, account, action: "amend", db)
            try SubmissionRules.checkAmend(
                current, to: submission, at: now, by: StoreRules.amendingKind(account, current))
            try Rows.updateSubmission(ccrn, submission, amendedAt: now, db)
            return try Rows.consignment(db, ccrn)!
        }
    }

    public func withdrawConsignment(_ ccrn: CCRN, by account: Account, at now: Date) async throws
        -> Consignment
    {
        try await transaction { db in
            let current = try Self.ownConsignment(ccrn, account, action: "withdraw", db)
            try SubmissionRules.checkWithdraw(current)
            try Rows.setStatus(ccrn, .withdrawn, bundledIn: nil, db)
            return try Rows.consignment(db, ccrn)!
        }
    }

    private static func insertNew(
        _ submission: ConsignmentSubmission, by accountName: String, at now: Date, _ db: Database
    ) throws -> Consignment {
        let ccrn = Column.ccrn(try NumberAllocator.allocate(.ccrn, in: db, atMillis: Column.millis(now)))
        let consignment = Consignment(
            ccrn: ccrn, submission: submission, submittedBy: accountName, submittedAt: now,
            validUntil: SubmissionRules.validUntil(submittedAt: now))
        try Rows.insert(consignment, db)
        // Read back, so the caller gets exactly what a later read returns.
        return try Rows.consignment(db, ccrn)!
    }

    private static func ownConsignment(_ ccrn: CCRN, _ account: Account, action: String, _ db: Database)
        throws -> Consignment
    {
        try StoreRules.own(try Rows.consignment(db, ccrn), ccrn, account, action: action)
    }

    // MARK: Bundles

    public func createBundle(_ request: BundleRequest, by account: Account, at now: Date) async throws
        -> CargoBundle
    {
        try StoreRules.checkCreatesBundles(account)
        let now = Self.normalised(now)
        return try await transaction { db in
            var consignments: [CCRN: Consignment] = [:]
            for ccrn in request.ccrns where consignments[ccrn] == nil {
                consignments[ccrn] = try Rows.consignment(db, ccrn)
            }
            let active = try Rows.activeBundle(db, vrn: request.vrn, direction: request.direction)
                .map { try Self.settleLapsedClaim($0, now: now, db) }
            try BundlingRules.check(request, consignments: consignments, activeBundle: active, now: now)
            let ubr = Column.ubr(try NumberAllocator.allocate(.ubr, in: db, atMillis: Column.millis(now)))
            let bundle = BundlingRules.complete(request, ubr: ubr, driverAccount: account.name, at: now)
            try Rows.insert(bundle, db)
            for ccrn in bundle.ccrns {
                try Rows.setStatus(ccrn, .bundled, bundledIn: ubr, db)
            }
            return try Rows.bundle(db, ubr)!
        }
    }

    public func debundle(_ ubr: UBR, by account: Account, at now: Date) async throws -> CargoBundle {
        let now = Self.normalised(now)
        return try await transaction { db in
            guard let found = try Rows.bundle(db, ubr) else { throw StoreError.notFound("UBR \(ubr)") }
            let bundle = try Self.settleLapsedClaim(found, now: now, db)
            try BundlingRules.checkDebundle(bundle, by: account.name, isOfficer: account.role == .officer)
            try Rows.endBundle(ubr, .debundled, at: now, db)
            for ccrn in bundle.ccrns {
                try Rows.setStatus(ccrn, .active, bundledIn: nil, db)
            }
            return try Rows.bundle(db, ubr)!
        }
    }

    public func bundle(_ ubr: UBR) async throws -> CargoBundle? {
        try await writer.read { db in try Rows.bundle(db, ubr) }
    }

    public func bundles(vrn: VRN) async throws -> [CargoBundle] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT * FROM bundles WHERE vrn = ? ORDER BY completed_at DESC, ubr DESC"),
                arguments: [vrn.value])
            return try rows.map { try Rows.bundle(from: $0, db) }
        }
    }

    public func activeBundle(vrn: VRN, direction: Direction) async throws -> CargoBundle? {
        try await writer.read { db in try Rows.activeBundle(db, vrn: vrn, direction: direction) }
    }

    public func crossings(vrn: VRN?, limit: Int) async throws -> [Crossing] {
        let limit = max(0, limit)
        return try await writer.read { db in
            let rows: [Row]
            if let vrn {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM crossings WHERE vrn = ? ORDER BY id DESC LIMIT ?",
                    arguments: [vrn.value, limit])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM crossings ORDER BY id DESC LIMIT ?", arguments: [limit])
            }
            return try rows.map(RowMapping.crossing)
        }
    }

    // MARK: Time

    /// Rounds to the stored precision (milliseconds) first, so a value
    /// returned by a call equals the same value read back later.
    static func normalised(_ date: Date) -> Date {
        Column.date(millis: Column.millis(date))
    }
}
