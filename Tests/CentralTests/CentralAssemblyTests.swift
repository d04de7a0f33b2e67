import CargoStore
import Central
import Foundation
import LaneLink
import LinkCore
import Logging
import RoadCargo
import ServiceLifecycle
import Testing

/// Central as clearanced assembles it: which services run, in which order
/// (a group stops them in reverse, so the HTTP API stops last and finishes
/// in-flight requests), and the SIGHUP key reload it runs as a daemon.
@Suite struct CentralAssemblyTests {
    static let lmc = try! LaneID("LMC-IN-01")
    static let mkt = try! LaneID("MKT-OUT-01")

    static func options(_ h: Harness) -> CentralOptions {
        var logger = Logger(label: "CentralAssemblyTests")
        logger.logLevel = .critical
        return CentralOptions(store: h.store, clock: h.clock, policy: h.central.policy, logger: logger)
    }

    static func kinds(_ services: [any Service]) -> [String] {
        services.map { service in
            switch service {
            case is EscalationService: "escalations"
            case is LaneLinkService: "link"
            case is CacheFeedService: "cache feed"
            case is LinkKeyReloader: "key reload"
            default: "\(type(of: service))".hasPrefix("Application") ? "http" : "\(type(of: service))"
            }
        }
    }

    @Test func clearancedsCentralStartsHTTPFirstAndTheLinkBeforeItsFeed() async throws {
        let h = try await Harness()
        var options = Self.options(h)
        options.link = CentralOptions.Link(
            keys: LinkKeyring([LinkKey.generate(for: Self.lmc)]), tcp: .bind(host: "127.0.0.1", port: 0))
        options.http = CentralOptions.HTTP(host: "127.0.0.1", port: 0)
        options.daemon = true
        let central = try await CentralAssembly(options)
        // No WATCHDOG_USEC in a test's environment: no watchdog service.
        #expect(Self.kinds(central.services) == ["http", "escalations", "link", "cache feed", "key reload"])
        let link = try #require(central.link)
        #expect(
            central.app.lanes === link.dispatcher, "the routes that send to lanes use the link's dispatcher")
        #expect(central.app.console == nil, "no console was asked for")
    }

    @Test func withoutALinkNoLinkPartRunsAndTheRoutesHaveNoLanes() async throws {
        let h = try await Harness()
        var options = Self.options(h)
        options.runsEscalations = false
        options.daemon = true
        let central = try await CentralAssembly(options)
        #expect(central.link == nil)
        #expect(central.app.lanes == nil)
        // SIGHUP is still trapped, so that a reload never kills central.
        #expect(Self.kinds(central.services) == ["key reload"])
    }

    @Test func aReloadInstallsNewKeysAndABrokenDirectoryKeepsTheKeysInForce() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("assembly-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try LinkKey.generate(for: Self.lmc).write(to: "\(directory)/\(Self.lmc.value).key")

        let h = try await Harness()
        var options = Self.options(h)
        var link = CentralOptions.Link(keys: try LinkKeyring.load(directory: directory), tcp: nil)
        link.keysDirectory = directory
        options.link = link
        options.daemon = true
        let central = try await CentralAssembly(options)
        let server = try #require(central.link?.server)
        let reloader = try #require(central.services.compactMap { $0 as? LinkKeyReloader }.first)

        // A lane added while central runs: its key is in force after SIGHUP.
        try LinkKey.generate(for: Self.mkt).write(to: "\(directory)/\(Self.mkt.value).key")
        await reloader.reload()
        let installed = try LinkKeyring.load(directory: directory)
        let unchanged = server.reloadKeys(installed)
        #expect(unchanged.added.isEmpty && unchanged.changed.isEmpty && unchanged.removed.isEmpty)

        // A key file under another lane's name: the directory does not load,
        // and both lanes keep their keys.
        try LinkKey.generate(for: Self.mkt).write(to: "\(directory)/WRONG-01.key")
        await reloader.reload()
        let still = server.reloadKeys(installed)
        #expect(still.added.isEmpty && still.changed.isEmpty && still.removed.isEmpty)
    }
}
