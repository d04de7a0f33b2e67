import GRDB
import RoadCargo

/// Issues CCRNs and UBRs that never repeat and cannot be guessed from the
/// previous one.
///
/// A number is a random 9-digit payload from the system's cryptographic
/// generator plus its Luhn check digit. It is claimed by inserting it into
/// `issued_numbers` inside the caller's write transaction; a clash with a
/// number issued before (today or years ago, before any restart) makes the
/// insert a no-op and another payload is drawn. Numbers are never deleted
/// from that table, so even if consignments or bundles are one day archived
/// away a number is still never issued twice (rule 4).
///
/// CCRNs and UBRs share the one namespace: a UBR typed where a CCRN belongs
/// is "unknown", never somebody else's consignment.
///
/// Payloads start at 100000000 so every number has ten significant digits:
/// spreadsheets and integer columns cannot drop a leading zero. That leaves
/// 900 million numbers; with a million issued a draw clashes one time in
/// 900, so the retry loop almost never runs twice.
enum NumberAllocator {
    enum Kind: String {
        case ccrn, ubr
    }

    static let payloads: ClosedRange<UInt64> = 100_000_000...999_999_999
    /// Only a nearly full number space gets this far; fail loudly rather
    /// than spin.
    static let maximumAttempts = 100

    struct Exhausted: Error, CustomStringConvertible {
        var description: String {
            "no free \(NumberAllocator.maximumAttempts) random reference numbers in a row; the number space is nearly full"
        }
    }

    /// Claims a fresh number; must run inside a write transaction, so that a
    /// rollback also releases the claim (a number nobody was told about).
    static func allocate(_ kind: Kind, in db: Database, atMillis issuedAt: Int64) throws -> Int64 {
        var rng = SystemRandomNumberGenerator()
        return try allocate(kind, in: db, atMillis: issuedAt, using: &rng)
    }

    /// The same, drawing from `rng`: tests pass a generator that repeats
    /// itself to prove that a clash is retried rather than reissued.
    static func allocate(
        _ kind: Kind, in db: Database, atMillis issuedAt: Int64, using rng: inout some RandomNumberGenerator
    ) throws -> Int64 {
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO issued_numbers(number, kind, issued_at) VALUES (?, ?, ?)")
        for _ in 0..<maximumAttempts {
            let number = draw(using: &rng)
            try insert.execute(arguments: [number, kind.rawValue, issuedAt])
            if db.changesCount == 1 { return number }
        }
        throw Exhausted()
    }

    /// One candidate: a random payload with its check digit, as stored.
    static func draw(using rng: inout some RandomNumberGenerator) -> Int64 {
        Column.number(CCRN(payload: UInt64.random(in: payloads, using: &rng)))
    }
}
