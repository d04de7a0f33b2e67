import LaneLink
import LinkCore
import NIOCore
import NIOPosix
import Synchronization
import TestKit

/// A noisy serial cable between two pseudo-terminals.
///
/// The lane opens ``lanePath``, central opens ``centralPath``, as they would
/// open `/dev/ttyS0` at each end of a real cable; the proxy reads each pty's
/// controller and writes what it read, through that direction's
/// ``LineImpairment``, to the other's. Baud rate and parity set by either end
/// have no effect: a pty moves bytes at memory speed.
///
/// ``cut()`` pulls the cable: the devices stay (a serial port does not vanish
/// when its cable is pulled) but bytes in both directions go nowhere until
/// ``restore()``. ``close()`` removes both devices; whoever still has one open
/// reads an error.
public final class NoisyPtyProxy: Sendable {
    /// The device the lane opens.
    public let lanePath: String
    /// The device central opens.
    public let centralPath: String

    private let lane: PseudoTerminal
    private let central: PseudoTerminal
    private let line: LineState
    private let pumps: Task<Void, Never>

    /// Opens both ptys and starts moving bytes.
    /// - Parameter seed: Seeds every random choice; each direction derives its own generator.
    public init(
        seed: UInt64 = 1, laneToCentral: LineImpairment = .none, centralToLane: LineImpairment = .none,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        let lane = try PseudoTerminal()
        let central = try PseudoTerminal()
        let laneSide = try await lane.controllerTransport(group: group)
        let centralSide: ChannelLinkTransport
        do {
            centralSide = try await central.controllerTransport(group: group)
        } catch {
            await lane.hangUp()
            throw error
        }
        let line = LineState(laneToCentral: laneToCentral, centralToLane: centralToLane)
        self.lane = lane
        self.central = central
        self.line = line
        lanePath = lane.devicePath
        centralPath = central.devicePath
        pumps = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await line.pump(
                        from: laneSide, to: centralSide, .laneToCentral,
                        seed: SeededGenerator.derive(seed, stream: 0))
                }
                group.addTask {
                    await line.pump(
                        from: centralSide, to: laneSide, .centralToLane,
                        seed: SeededGenerator.derive(seed, stream: 1))
                }
            }
        }
    }

    /// Replaces the impairment model for one direction; chunks already read keep the old one.
    public func setImpairment(_ impairment: LineImpairment, for direction: LineDirection) {
        line.setModel(impairment, direction)
    }

    /// What the proxy has done to one direction so far.
    public func counters(_ direction: LineDirection) -> LineCounters {
        line.counters(direction)
    }

    /// Whether the cable is cut.
    public var isCut: Bool { line.isCut }

    /// Pulls the cable: from now on bytes in both directions are read and discarded.
    public func cut() {
        line.isCut = true
    }

    /// Plugs the cable back in. Bytes sent while it was out stay lost.
    public func restore() {
        line.isCut = false
    }

    /// Removes both devices and stops the pumps. Returns once both controllers are closed.
    public func close() async {
        await lane.hangUp()
        await central.hangUp()
        await pumps.value
    }
}
