import AnyJSON
import Foundation
import RoadCargo

/// Formats a coding path as the dotted field path problem bodies use:
/// `goodsItems[2].grossWeight.value`.
func fieldPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        if let i = key.intValue {
            out += "[\(i)]"
        } else {
            out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return out
}

/// Decodes `Decodable` request types from a ``JSONValue`` more strictly than
/// `JSONDecoder`: members the type does not know are refused (a misspelt
/// optional field would otherwise be silently dropped), `null` is refused
/// where a member may only be left out, and every refusal names its field.
///
/// Unknown members are collected across the whole document so that one
/// response lists them all; the first structural error (missing member,
/// wrong type) stops decoding, as it must.
enum StrictJSONDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(ValidationFailure) -> T {
        let log = IssueLog()
        let decoder = TreeDecoder(value: value, codingPath: [], log: log)
        do {
            let result = try T(from: decoder)
            if !log.issues.isEmpty { throw ValidationFailure(log.issues) }
            return result
        } catch let failure as ValidationFailure {
            throw failure
        } catch let error as DecodingError {
            throw ValidationFailure(log.issues + [issue(for: error)])
        } catch {
            throw ValidationFailure(
                log.issues + [ValidationIssue(field: "", rule: "json.invalid", detail: "\(error)")])
        }
    }

    static func issue(for error: DecodingError) -> ValidationIssue {
        switch error {
        case .keyNotFound(let key, let ctx):
            return ValidationIssue(
                field: fieldPath(ctx.codingPath + [key]), rule: "json.required",
                detail: "this field is required")
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return ValidationIssue(
                field: fieldPath(ctx.codingPath), rule: "json.type", detail: ctx.debugDescription)
        case .dataCorrupted(let ctx):
            return ValidationIssue(
                field: fieldPath(ctx.codingPath), rule: "json.invalid", detail: ctx.debugDescription)
        @unknown default:
            return ValidationIssue(field: "", rule: "json.invalid", detail: "\(error)")
        }
    }
}

/// Shared by every container of one decoding run; single-threaded use only.
private final class IssueLog {
    var issues: [ValidationIssue] = []
}

private struct TreeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let log: IssueLog
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(
            Any.self,
            .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.typeName)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch("an object") }
        // A synthesized CodingKeys enum refuses names it does not declare,
        // which is exactly the set of unknown members.
        for name in members.keys.sorted() where Key(stringValue: name) == nil {
            log.issues.append(
                ValidationIssue(
                    field: fieldPath(codingPath + [AnyKey(stringValue: name)]), rule: "json.unknown-field",
                    detail: "this field is not part of the request; check its spelling"))
        }
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath, log: log))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch("an array") }
        return Unkeyed(items: items, codingPath: codingPath, log: log)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }
}

private struct Single: SingleValueDecodingContainer {
    let decoder: TreeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = decoder.value else { throw decoder.mismatch("true or false") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = decoder.value else { throw decoder.mismatch("a string") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch decoder.value {
        case .integer(let i): return Double(i)
        case .number(let d) where d.isFinite: return d
        default: throw decoder.mismatch("a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        switch decoder.value {
        case .integer(let i):
            if let v = T(exactly: i) { return v }
        case .number(let d):
            if let v = T(exactly: d) { return v }
        default:
            throw decoder.mismatch("a whole number")
        }
        throw DecodingError.dataCorrupted(
            .init(
                codingPath: codingPath,
                debugDescription: "expected a whole number between \(T.min) and \(T.max)"))
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]
    let log: IssueLog

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func child(_ key: Key) throws -> TreeDecoder {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return TreeDecoder(value: value, codingPath: codingPath + [key], log: log)
    }

    func decodeNil(forKey key: Key) throws -> Bool { members[key.stringValue] == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let d = try child(key)
        if d.value == .null { throw d.mismatch("a value") }
        return try T(from: d)
    }

    // Optional members may be left out but not sent as null: the OpenAPI
    // document does not declare them nullable, and one spelling is easier
    // to reason about than two.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        return try decode(type, forKey: key)
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        contains(key) ? try decode(type, forKey: key) : nil
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        contains(key) ? try decode(type, forKey: key) : nil
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        contains(key) ? try decode(type, forKey: key) : nil
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        contains(key) ? try decode(type, forKey: key) : nil
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        contains(key) ? try decode(type, forKey: key) : nil
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try child(Key(stringValue: "super")!) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    let log: IssueLog
    var currentIndex = 0

    init(items: [JSONValue], codingPath: [any CodingKey], log: IssueLog) {
        self.items = items
        self.codingPath = codingPath
        self.log = log
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> TreeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self, .init(codingPath: codingPath, debugDescription: "the array has too few items"))
        }
        defer { currentIndex += 1 }
        return TreeDecoder(
            value: items[currentIndex], codingPath: codingPath + [AnyKey(intValue: currentIndex)], log: log)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let d = try next()
        if d.value == .null { throw d.mismatch("a value") }
        return try T(from: d)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try next() }
}
