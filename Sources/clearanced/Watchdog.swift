import CargoStore
import Dispatch
import LaneLink
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import ServiceSupport

/// clearanced and systemd (`Type=notify`, `WatchdogSec=` in
/// `systemd/clearanced.service`): `READY=1` once the HTTP API listens, then
/// `WATCHDOG=1` every half `WATCHDOG_USEC`, but only after a round in which
/// the event loops, the store and the link server all answered (see
/// ``Watchdog`` and `docs/threads.md`). A clearanced that hangs stops
/// pinging, and systemd restarts it.
enum CentralWatchdog {
    static let notifier = SystemdNotifier()

    /// Tells systemd the server is up (called once the HTTP API listens).
    static func listening(at address: String) {
        notifier.ready(status: "serving on \(address)")
    }

    /// The watchdog's service, or none when systemd set no watchdog.
    static func services(
        store: SQLiteCargoStore, link: LaneLinkServer?, logger: Logger
    ) -> [any Service] {
        guard let interval = notifier.watchdogInterval else { return [] }
        logger.info("systemd watchdog", metadata: ["every": "\(interval)"])
        let watchdog = Watchdog(
            probes: probes(store: store, link: link), interval: interval,
            send: { message in
                if message.hasPrefix("STATUS=") {
                    logger.error(
                        "withholding the watchdog ping", metadata: ["why": "\(message.dropFirst(7))"])
                }
                notifier.send(message)
            })
        return [WatchdogService(watchdog: watchdog)]
    }

    /// One probe through each part that must make progress.
    static func probes(
        store: SQLiteCargoStore, link: LaneLinkServer?,
        loops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> [LivenessProbe] {
        var probes = [
            // HTTP and the lane link run on NIO's singleton group: a task
            // on every loop shows none is blocked.
            LivenessProbe("event loops") {
                for loop in loops.makeIterator() { try await loop.submit {}.get() }
            },
            // Through GRDB's async API and a reader connection, as every
            // request's reads go.
            LivenessProbe("store") { try await store.ping() },
        ]
        if let link {
            // The server's status takes its locks synchronously; on a queue
            // of its own, so a lock held for good holds only that queue.
            probes.append(
                LivenessProbe("link server") {
                    _ = try await Blocking.run(on: linkProbeQueue) { link.connectedLanes.count }
                })
        }
        return probes
    }

    private static let linkProbeQueue = DispatchQueue(label: "clearanced.watchdog.link")
}

/// The watchdog's rounds as a Service, until graceful shutdown.
struct WatchdogService: Service {
    let watchdog: Watchdog

    func run() async {
        await cancelWhenGracefulShutdown { await watchdog.run() }
        CentralWatchdog.notifier.stopping()
    }
}
