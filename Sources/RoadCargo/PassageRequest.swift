import Foundation

/// A lane's question about the vehicle of one passage, under the lane's own
/// ids: what the lane's state machine asks (``DecisionRequest`` is the same
/// question once the lane is known) and what the link carries to central.
public struct PassageRequest: Sendable, Hashable {
    /// The lane's own id for this request; the decision echoes it.
    public var requestID: UInt64
    /// The vehicle's stay at the lane (arrival to leaving): every request,
    /// re-request and resend about one stay carries the same passage id.
    public var passageID: UInt64
    /// The vehicle, as the reader saw it.
    public var vrn: VRN
    /// When it arrived at the lane.
    public var arrivedAt: Date
    /// Whether the driver pressed Unladen Vehicle for this passage.
    public var unladenPressed: Bool

    public init(requestID: UInt64, passageID: UInt64, vrn: VRN, arrivedAt: Date, unladenPressed: Bool) {
        self.requestID = requestID
        self.passageID = passageID
        self.vrn = vrn
        self.arrivedAt = arrivedAt
        self.unladenPressed = unladenPressed
    }

    /// The decision core's question: this vehicle at `lane`.
    public func decision(at lane: Lane) -> DecisionRequest {
        DecisionRequest(lane: lane, vrn: vrn, arrivedAt: arrivedAt, unladenPressed: unladenPressed)
    }
}
