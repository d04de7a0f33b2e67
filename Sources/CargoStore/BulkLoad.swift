import Foundation
import GRDB
import RoadCargo

extension SQLiteCargoStore {
    /// Writes ready-made consignments and bundles in one transaction,
    /// checking no rule and drawing no number: for the benchmark's million
    /// rows, where the validating path would take an hour. The caller makes
    /// the data consistent (unique numbers, one active bundle per VRN and
    /// direction); the schema's constraints still apply, foreign keys aside.
    package func bulkLoad(_ body: (BulkLoader) throws -> Void) throws {
        try writer.writeWithoutTransaction { db in
            // Foreign keys cannot be switched inside a transaction; loading
            // consignments before their bundles needs them off.
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA cache_size = -262144")
            defer {
                try? db.execute(sql: "PRAGMA cache_size = -2000")
                try? db.execute(sql: "PRAGMA synchronous = FULL")
                try? db.execute(sql: "PRAGMA foreign_keys = ON")
            }
            try db.inTransaction {
                try body(BulkLoader(db: db))
                return .commit
            }
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }
}

/// Row writer handed out by ``SQLiteCargoStore/bulkLoad(_:)``.
package struct BulkLoader {
    let db: Database

    /// Stores the consignment and marks its CCRN issued. `submissionJSON`,
    /// when given, is stored instead of encoding the submission again.
    package func insert(_ consignment: Consignment, submissionJSON: String? = nil) throws {
        try issue(Column.number(consignment.ccrn), .ccrn, at: consignment.submittedAt)
        try Rows.insert(consignment, db, submissionJSON: submissionJSON)
    }

    /// Stores the bundle with its CCRN list and marks its UBR issued.
    package func insert(_ bundle: CargoBundle) throws {
        try issue(Column.number(bundle.ubr), .ubr, at: bundle.completedAt)
        try Rows.insert(bundle, db)
    }

    /// The JSON the store would write for a submission, to pass back to
    /// ``insert(_:submissionJSON:)`` for many consignments alike.
    package static func json(_ submission: ConsignmentSubmission) throws -> String {
        try Column.json(submission)
    }

    private func issue(_ number: Int64, _ kind: NumberAllocator.Kind, at date: Date) throws {
        let stmt = try db.cachedStatement(
            sql: "INSERT INTO issued_numbers(number, kind, issued_at) VALUES (?, ?, ?)")
        try stmt.execute(arguments: [number, kind.rawValue, Column.millis(date)])
    }
}
