import Foundation
import RoadCargo

/// Whether paper manifests are still accepted (briefing: the 18-month
/// transitional period before mandatory submission).
public enum ImplementationPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case transitional
    case full
}

/// Everything configurable about decisions at a control point.
public struct DecisionPolicy: Sendable, Hashable {
    public var phase: ImplementationPhase
    public var selection: SelectionSettings

    public init(phase: ImplementationPhase, selection: SelectionSettings) {
        self.phase = phase
        self.selection = selection
    }
}

/// The officers' watch list as the decision core sees it.
public struct WatchList: Sendable, Hashable {
    public var vrns: Set<VRN>
    public var ccrns: Set<CCRN>
    /// Normalised with ``WatchTarget/normaliseName(_:)``.
    public var consignees: Set<String>

    public init(_ targets: some Sequence<WatchTarget> = []) {
        var v = Set<VRN>(), c = Set<CCRN>(), n = Set<String>()
        for t in targets {
            switch t {
            case .vrn(let x): v.insert(x)
            case .ccrn(let x): c.insert(x)
            case .consignee(let x): n.insert(WatchTarget.normaliseName(x))
            }
        }
        vrns = v
        ccrns = c
        consignees = n
    }

    public static let empty = WatchList([])
}
