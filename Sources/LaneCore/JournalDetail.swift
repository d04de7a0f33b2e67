import Foundation
import RoadCargo

/// The `detail` text of a journal entry: `key=value` pairs in the order
/// written, separated by spaces. A value with a space, quote, `=` or
/// backslash, or an empty one, is double-quoted with `\"` and `\\` escaped,
/// so that the text splits back into the same pairs.
struct Detail: ExpressibleByDictionaryLiteral {
    private(set) var pairs: [(key: String, value: String)]

    init(dictionaryLiteral elements: (String, String)...) {
        pairs = elements.map { (key: $0.0, value: $0.1) }
    }

    mutating func add(_ key: String, _ value: String) {
        pairs.append((key: key, value: value))
    }

    static func + (a: Detail, b: Detail) -> Detail {
        var sum = a
        sum.pairs += b.pairs
        return sum
    }

    var text: String {
        pairs.map { "\($0.key)=\(Self.quoted($0.value))" }.joined(separator: " ")
    }

    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" }
        if plain { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
            of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }
}

extension Array where Element == LaneAction {
    /// Appends a journal entry.
    mutating func journal(
        _ kind: JournalKind, vrn: VRN? = nil, requestID: UInt64? = nil, decisionID: UInt64? = nil,
        decision: Decision? = nil, instruction: Instruction? = nil, reason: Reason? = nil,
        officer: String? = nil,
        callID: UInt64? = nil, detail: Detail = [:]
    ) {
        append(
            .journal(
                JournalEntry(
                    kind, vrn: vrn, requestID: requestID, decisionID: decisionID,
                    instruction: instruction ?? decision?.instruction, reason: reason ?? decision?.reason,
                    officer: officer, detail: detail.text, decision: decision, callID: callID)))
    }
}

extension Decision {
    /// The parts of a decision beyond instruction and reason, for `detail`.
    var detailPairs: Detail {
        var d: Detail = [:]
        if let ubr { d.add("ubr", ubr.value) }
        if let earliestCrossing { d.add("earliest_crossing", HongKongTime.iso8601(earliestCrossing)) }
        if !notes.isEmpty { d.add("notes", notes.map(\.rawValue).joined(separator: ",")) }
        if !ccrns.isEmpty { d.add("ccrns", ccrns.map(\.value).joined(separator: ",")) }
        return d
    }
}
