/// A Hong Kong vehicle registration number, normalised: spaces removed,
/// letters upper-cased, 1 to 8 characters of A-Z and 0-9.
///
/// Normalisation never maps one character to another (no I->1, O->0): a
/// reader's confusion must not turn one plate into another vehicle's. Use
/// ``lookalikeKey`` to *find* plates a reader may have confused, never to
/// match them silently.
public struct VRN: Sendable, Hashable, ValidatedStringCodable, Comparable, CustomStringConvertible {
    public let value: String

    public init(_ raw: String) throws(ValidationFailure) {
        var out = ""
        for scalar in raw.unicodeScalars {
            switch scalar {
            case " ", "\t", "\u{00A0}", "\u{3000}":
                continue
            case "a"..."z":
                out.unicodeScalars.append(Unicode.Scalar(scalar.value - 32)!)
            case "A"..."Z", "0"..."9":
                out.unicodeScalars.append(scalar)
            default:
                throw ValidationFailure(
                    field: "", rule: "vrn.characters",
                    detail: "a VRN holds only letters A-Z and digits 0-9; found \"\(scalar)\"")
            }
        }
        guard !out.isEmpty else {
            throw ValidationFailure(
                field: "", rule: "vrn.empty", detail: "a VRN needs 1 to 8 letters or digits")
        }
        guard out.count <= 8 else {
            throw ValidationFailure(
                field: "", rule: "vrn.length",
                detail: "a VRN has at most 8 letters or digits; \"\(out)\" has \(out.count)")
        }
        value = out
    }

    /// The plate with the characters readers confuse (I/1, O/0, B/8, Z/2, S/5)
    /// folded together; two different plates with the same key deserve an
    /// officer's look, never an automatic match.
    public var lookalikeKey: String {
        String(
            value.map { ch -> Character in
                switch ch {
                case "I": "1"
                case "O", "Q": "0"
                case "B": "8"
                case "Z": "2"
                case "S": "5"
                default: ch
                }
            })
    }

    public var description: String { value }
    public var canonicalString: String { value }

    public static func < (a: VRN, b: VRN) -> Bool { a.value < b.value }

}
