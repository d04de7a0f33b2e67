import Foundation
import RoadCargo

/// How values are written to SQLite columns.
///
/// Instants are integer milliseconds since 1970-01-01 UTC: an integer
/// compares and indexes exactly (a REAL would not), milliseconds keep more
/// than the second the rules need without float drift, and the value means
/// the same whatever time zone the host or the `sqlite3` shell runs in.
/// Hong Kong calendar days are integer days since 1970-01-01
/// (``CalendarDay/daysSinceEpoch``). CCRNs and UBRs are stored as integers
/// (every issued one has ten significant digits, see ``NumberAllocator``).
enum Column {
    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    static func number(_ ref: some CheckedReference) -> Int64 {
        // A CheckedReference is ten ASCII digits by construction.
        Int64(ref.value)!
    }

    static func ccrn(_ n: Int64) -> CCRN { CCRN(validated: tenDigits(n)) }
    static func ubr(_ n: Int64) -> UBR { UBR(validated: tenDigits(n)) }

    private static func tenDigits(_ n: Int64) -> String {
        let s = String(n)
        return s.count >= 10 ? s : String(repeating: "0", count: 10 - s.count) + s
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        // Sorted keys: the same value always gives the same text, so a diff
        // of two dumps shows only real changes.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }
}
