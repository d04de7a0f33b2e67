import RoadCargo

/// A request that is well formed but clashes with what is already stored:
/// amending a bundled consignment, a second active bundle for a VRN,
/// debundling a used bundle. Reported like a ``ValidationFailure`` (field,
/// rule, sentence) but means "the state forbids it", not "the input is bad".
public struct RuleConflict: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [ValidationIssue]

    public init(field: String, rule: String, detail: String) {
        issues = [ValidationIssue(field: field, rule: rule, detail: detail)]
    }

    public var description: String { issues.map(\.description).joined(separator: "; ") }
}

/// The caller is known but may not do this to this record (a driver
/// debundling another driver's bundle, a shipper amending another's
/// consignment).
public struct AccessDenied: Error, Sendable, Hashable, CustomStringConvertible {
    public var detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}
