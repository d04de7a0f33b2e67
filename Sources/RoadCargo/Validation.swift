/// One thing wrong with an input, named so that a person can fix it.
///
/// `field` is a dotted path into the submitted document (`consignee.name`,
/// `goodsItems[2].grossWeight`), `rule` a stable machine-readable code that
/// the docs list, and `detail` a sentence for a human.
public struct ValidationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    public var field: String
    public var rule: String
    public var detail: String

    public init(field: String, rule: String, detail: String) {
        self.field = field
        self.rule = rule
        self.detail = detail
    }

    /// The same issue located under a parent field, e.g. `goodsItems[1]`.
    public func nested(under parent: String) -> ValidationIssue {
        ValidationIssue(field: field.isEmpty ? parent : "\(parent).\(field)", rule: rule, detail: detail)
    }

    public var description: String { "\(field): \(detail) [\(rule)]" }
}

/// Thrown when an input breaks one or more rules; carries every issue found,
/// not only the first, so a form can be corrected in one round.
public struct ValidationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [ValidationIssue]

    public init(_ issues: [ValidationIssue]) {
        precondition(!issues.isEmpty, "a validation failure names at least one issue")
        self.issues = issues
    }

    public init(field: String, rule: String, detail: String) {
        self.init([ValidationIssue(field: field, rule: rule, detail: detail)])
    }

    public var description: String { issues.map(\.description).joined(separator: "; ") }
}

/// Collects issues while a composite value is validated.
public struct IssueCollector: Sendable {
    public private(set) var issues: [ValidationIssue] = []

    public init() {}

    public mutating func add(_ field: String, _ rule: String, _ detail: String) {
        issues.append(ValidationIssue(field: field, rule: rule, detail: detail))
    }

    /// Runs `body`; a `ValidationFailure` it throws is recorded under `field`.
    public mutating func check<T>(_ field: String, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let failure as ValidationFailure {
            issues.append(contentsOf: failure.issues.map { $0.nested(under: field) })
        } catch {
            add(field, "invalid", "\(error)")
        }
        return nil
    }

    public func throwIfAny() throws {
        if !issues.isEmpty { throw ValidationFailure(issues) }
    }
}

/// A value written as one string in every external format (JSON, the
/// store, the wire) and parsed with validation on the way in, so a bad value
/// fails decoding with the rule's own sentence instead of becoming a
/// half-valid value.
public protocol ValidatedStringCodable: Codable {
    init(_ raw: String) throws(ValidationFailure)
    /// The normalised spelling that is written out.
    var canonicalString: String { get }
}

extension ValidatedStringCodable {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(canonicalString)
    }
}
