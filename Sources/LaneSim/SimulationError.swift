import RoadCargo

/// What the simulation refuses, said for a technician.
public enum SimulationError: Error, CustomStringConvertible {
    case unknownLane(LaneID)
    case laneDown(LaneID)
    case centralDown
    case unknownCCRN(CCRN)
    case portTaken(Int)
    case unsupported(String)
    case noHelpCall(LaneID)

    public var description: String {
        switch self {
        case .unknownLane(let id): "no lane \(id) in this scenario"
        case .laneDown(let id): "lane \(id) is stopped (kill); restart it first"
        case .centralDown: "central is stopped (kill); restart it first"
        case .noHelpCall(let id): "lane \(id) has no help call at central; press help there first"
        case .unknownCCRN(let ccrn): "no consignment \(ccrn)"
        case .portTaken(let port): "cannot listen on 127.0.0.1:\(port) for central's link"
        case .unsupported(let what): "\(what) is not possible"
        }
    }
}
