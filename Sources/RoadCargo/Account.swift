/// What an API caller may do (briefing: shippers, agents acting for them,
/// truck drivers; plus the officers who run the control point and
/// immigration clearance, which tells central which vehicle enters which lane).
public enum AccountRole: String, Sendable, Hashable, Codable, CaseIterable {
    case shipper
    case agent
    case driver
    case officer
    /// Immigration clearance at a control point: reports which vehicle has
    /// been cleared into which lane, and nothing else.
    case immigration
}

/// An API caller, as authenticated by its token.
public struct Account: Sendable, Hashable, Codable {
    /// Unique login name, e.g. `winning-co` or `driver-ho`.
    public var name: String
    public var role: AccountRole
    /// Officers and immigration accounts may be limited to one control
    /// point; nil means all.
    public var controlPoint: ControlPoint?

    public init(name: String, role: AccountRole, controlPoint: ControlPoint? = nil) {
        self.name = name
        self.role = role
        self.controlPoint = controlPoint
    }
}
