import Logging
import ServiceLifecycle

/// The parts of a running lane, each one service of its `ServiceGroup`
/// (``LaneDaemon/services(heartbeat:)``), in start order. A graceful
/// shutdown stops them in reverse: first what takes input (control socket,
/// buttons, reader feed), then retention, then the controller (it handles
/// what is queued), then the link (its session closes; what it did not
/// send stays in the outbox), then the boards, and the journal last, once
/// nothing writes to it any more.
public enum LanePart: String, Sendable, CaseIterable, CustomStringConvertible {
    case journal
    case boards
    case link
    case controller
    case retention
    case readerFeed = "reader_feed"
    case buttons
    case controlSocket = "control_socket"

    public var description: String { rawValue }
}

/// One part of the lane as a service: its body ends on graceful shutdown
/// (and on cancellation), and the part reports when it has stopped.
struct LanePartService: Service, CustomStringConvertible {
    let part: LanePart
    let logger: Logger
    let stopped: (@Sendable (LanePart) -> Void)?
    let body: @Sendable () async throws -> Void

    var description: String { "lane part \(part)" }

    func run() async throws {
        do {
            try await body()
        } catch {
            logger.error("a part of the lane failed", metadata: ["part": "\(part)", "error": "\(error)"])
            stopped?(part)
            throw error
        }
        logger.debug("lane part stopped", metadata: ["part": "\(part)"])
        stopped?(part)
    }

    /// The group's entry for this part: whichever way it ends, the lane
    /// shuts down gracefully (systemd restarts laned when it was a failure,
    /// which `ServiceGroup.run()` rethrows once all parts have stopped).
    var configuration: ServiceGroupConfiguration.ServiceConfiguration {
        .init(
            service: self, successTerminationBehavior: .gracefullyShutdownGroup,
            failureTerminationBehavior: .gracefullyShutdownGroup)
    }
}

/// Runs `body` until graceful shutdown cancels it. The error a body throws
/// because it was cancelled that way (a closed socket, a `CancellationError`)
/// is the end asked for, not a failure of the part.
func untilGracefulShutdown(_ body: @escaping @Sendable () async throws -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown(body)
    } catch  where Task.isShuttingDownGracefully || Task.isCancelled {
        return
    }
}

extension LaneDaemon {
    /// Runs the lane's parts as one group until cancelled (as a crash
    /// would stop it: every part at once) or until a part ends, which shuts
    /// the others down in order. `heartbeat` is called from the lane's main
    /// loop (the systemd watchdog). The simulator and the tests run lanes
    /// so; laned runs ``services(heartbeat:)`` in its own group with signals.
    public func run(heartbeat: @escaping @Sendable () -> Void = {}) async throws {
        let group = ServiceGroup(
            configuration: .init(services: services(heartbeat: heartbeat), logger: logger))
        do {
            try await group.run()
        } catch {
            await closeDevices()
            throw error
        }
        await closeDevices()
    }

    /// The lane's parts in start order, for a `ServiceGroup`; a graceful
    /// shutdown stops them in reverse (``LanePart``). Each part ends on
    /// graceful shutdown as on cancellation; only graceful shutdown closes
    /// the journal, after every other part has stopped.
    public func services(heartbeat: @escaping @Sendable () -> Void = {})
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        func part(_ part: LanePart, _ body: @escaping @Sendable () async throws -> Void)
            -> ServiceGroupConfiguration.ServiceConfiguration
        {
            LanePartService(part: part, logger: logger, stopped: partStopped, body: body).configuration
        }
        let (journal, controller, link, inbox, buttons, control, displays, logger) = (
            self.journal, self.controller, self.link, self.inbox, self.buttons, self.control, self.displays,
            self.logger
        )
        var parts = [
            part(.journal) {
                // Cancelled: left as a kill leaves it (the next start recovers).
                guard (try? await gracefulShutdown()) != nil else { return }
                try await journal.close()
            },
            part(.boards) {
                // Dark either way: the lane is stopping.
                try? await gracefulShutdown()
                await displays.close()
            },
            part(.link) { try await untilGracefulShutdown { try await link.run() } },
            part(.controller) {
                try await withGracefulShutdownHandler {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            await inbox.serve { message in try await controller.received(message) }
                        }
                        // The loop ends on cancellation, or once it has
                        // handled what was queued before graceful shutdown.
                        try await controller.run(heartbeat: heartbeat)
                        inbox.finish()
                        group.cancelAll()
                    }
                } onGracefulShutdown: {
                    controller.finish()
                }
            },
            part(.retention) { try await untilGracefulShutdown { await self.retentionLoop() } },
        ]
        if let feed = readerFeed {
            parts.append(
                part(.readerFeed) {
                    try await untilGracefulShutdown {
                        try await feed.run { vrn in controller.post(.vehicleArrived(vrn, source: .reader)) }
                    }
                })
        }
        parts.append(
            part(.buttons) {
                try await untilGracefulShutdown {
                    await ButtonPump(backend: buttons, controller: controller, logger: logger).run()
                }
                await buttons.shutdown()
            })
        parts.append(part(.controlSocket) { try await untilGracefulShutdown { try await control.run() } })
        return parts
    }

    /// Closes the boards and releases the buttons (again, harmlessly, when
    /// their parts already did): after a cancelled run, nothing draws any more.
    private func closeDevices() async {
        await buttons.shutdown()
        await displays.close()
    }

    /// Retention at start and every six hours. It deletes in batches and
    /// vacuums through GRDB's async API, so its SQLite work runs on the
    /// journal's writer queue and never holds a cooperative thread.
    func retentionLoop() async {
        while !Task.isCancelled {
            let days = configuration.journal.retentionDays
            do {
                let report = try await journal.applyRetention(keepingDays: days, now: journal.clock.now())
                if report.deleted > 0 {
                    logger.info(
                        "journal retention", metadata: ["deleted": "\(report.deleted)", "days": "\(days)"])
                }
            } catch {
                logger.error("journal retention failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(6 * 3600))
        }
    }

}
