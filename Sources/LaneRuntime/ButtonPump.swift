import GPIO
import LaneCore
import Logging

/// Carries a button backend's events into the lane: presses and releases as
/// lane inputs with their kernel timestamps, the exit loop's release as the
/// vehicle leaving, faults and recoveries as lane faults.
public struct ButtonPump: Sendable {
    public let backend: any ButtonBackend
    public let controller: LaneController
    public let logger: Logger

    public init(backend: any ButtonBackend, controller: LaneController, logger: Logger) {
        self.backend = backend
        self.controller = controller
        self.logger = logger
    }

    /// Runs until the backend's stream ends or the task is cancelled.
    public func run() async {
        await withTaskCancellationHandler {
            for await event in backend.events {
                if let input = Self.input(for: event) { controller.post(input) }
            }
        } onCancel: { [backend] in
            Task { await backend.shutdown() }
        }
    }

    static func input(for event: ButtonInputEvent) -> LaneInput? {
        switch event {
        case .pressed(.exitLoop, _): nil
        case .released(.exitLoop, _): .vehicleLeft
        case .pressed(let role, let ns): LaneButton(role).map { .buttonPressed($0, kernelNanoseconds: ns) }
        case .released(let role, let ns): LaneButton(role).map { .buttonReleased($0, kernelNanoseconds: ns) }
        case .fault(let fault): .fault(code: fault.code, text: fault.description)
        case .recovered(let fault): .faultCleared(code: fault.code)
        }
    }
}

/// The lamps of a button backend.
public struct BackendLamps: LaneLamps {
    public let backend: any ButtonBackend

    public init(backend: any ButtonBackend) { self.backend = backend }

    public func setLamp(_ button: LaneButton, on: Bool) async throws {
        backend.setLamp(button.role, on: on)
    }
}

extension LaneButton {
    init?(_ role: ButtonRole) {
        switch role {
        case .unladen: self = .unladen
        case .help: self = .help
        case .exitLoop: return nil
        }
    }

    var role: ButtonRole {
        switch self {
        case .unladen: .unladen
        case .help: .help
        }
    }
}

extension GPIOFault {
    /// The lane's fault code; a fault and its recovery share it, and two
    /// different stuck buttons are two faults.
    var code: String {
        switch self {
        case .stuckButton(let role, _): "\(LaneFaultCode.stuckButton.name):\(role)"
        case .chipVanished: LaneFaultCode.gpioLost.name
        case .lineRequestFailed(let role, let kind, _): "\(LaneFaultCode.gpioLost.name):\(role)-\(kind)"
        case .lampFailed(let role, _): "lamp_failed:\(role)"
        }
    }
}
