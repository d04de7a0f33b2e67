import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// `/console/live`: a WebSocket that sends the officer's snapshot when they
/// connect and again after every change, until the session ends.
extension CentralApp {
    /// Decides an upgrade request: only `/console/live`, only with a live
    /// console session, only from the console's own origin (a page on
    /// another site could otherwise open the socket with the officer's cookie).
    func consoleLiveUpgrade(_ console: OfficersConsole, _ head: HTTPRequest) async
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        guard head.path?.split(separator: "?").first == "/console/live" else { return .dontUpgrade }
        let officer: ConsoleSessions.Officer
        do {
            try ConsoleSessions.requireSameOrigin(head.headerFields, authority: head.authority, csrf: nil)
            officer = try await console.sessions.officer(for: head.headerFields)
        } catch {
            logger.notice("console: live socket refused", metadata: ["why": "\(Problem.from(error).detail)"])
            return .dontUpgrade
        }
        return .upgrade([:]) { inbound, outbound, _ in
            try await self.streamSnapshots(to: outbound, inbound: inbound, officer: officer, console: console)
        }
    }

    private func streamSnapshots(
        to outbound: WebSocketOutboundWriter, inbound: WebSocketInboundStream,
        officer: ConsoleSessions.Officer,
        console: OfficersConsole
    ) async throws {
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let (id, changes) = console.bus.subscribe()
        defer { console.bus.cancel(id) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The page sends nothing; reading still notices when it goes away.
            group.addTask {
                for try await _ in inbound {}
            }
            group.addTask {
                for await _ in changes { wake.yield() }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: console.refresh)
                    wake.yield()
                }
            }
            group.addTask {
                var last = Data()
                wake.yield()
                for await _ in wakeups {
                    guard try await console.sessions.keepAlive(officer) else {
                        try await outbound.write(.text(#"{"type":"expired"}"#))
                        return
                    }
                    let snapshot = try await self.snapshot(for: officer.account, help: console.helpDesk)
                    let data = try JSONBody.encoder().encode(LiveMessage(snapshot: snapshot))
                    // The snapshot's clock changes every second; send only
                    // when something an officer acts on did.
                    let comparable = try JSONBody.encoder().encode(
                        LiveMessage(snapshot: snapshot.withoutClock))
                    guard comparable != last else { continue }
                    last = comparable
                    try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
                }
            }
            // Whichever ends first (the page left, the session ended) ends all.
            try await group.next()
            group.cancelAll()
        }
    }
}

private struct LiveMessage: Encodable {
    var type = "snapshot"
    var snapshot: ConsoleSnapshot
}

extension ConsoleSnapshot {
    var withoutClock: ConsoleSnapshot {
        var copy = self
        copy.now = ""
        return copy
    }
}
