import Crypto
import Foundation
import GRDB
import LinkCore
import RoadCargo

// Per-lane bookkeeping of LaneLinkServer: admission, applying, outboxes.
extension LaneLinkServer {
    /// The outbox of central's messages to `lane`, created on first use
    /// through GRDB's async API.
    func outbox(for lane: LaneID) async throws -> SQLiteOutbox {
        try await prepared.value
        if let existing = state.withLock({ $0.lanes[lane]?.outbox }) { return existing }
        let made = try await SQLiteOutbox.prepared(
            writer: database, table: Self.outboxTable(for: lane), now: { [wallClock] in wallClock.now() })
        return state.withLock { s in
            if let existing = s.lanes[lane]?.outbox { return existing }
            s.lanes[lane] = LaneEntry(outbox: made)
            return made
        }
    }

    /// Offers a stored message to the lane's live connection; while a
    /// confirmed connection is reading its pending rows, holds it for after them.
    func offer(id: UInt64, payload: [UInt8], to lane: LaneID) {
        let target = state.withLock { s -> LinkEndpoint? in
            if s.lanes[lane]?.loading != nil {
                s.lanes[lane]?.loading?.append((id, payload))
                return nil
            }
            return s.lanes[lane]?.endpoint
        }
        target?.enqueue(messageID: id, payload: payload)
    }

    /// Lane ids may hold '-' and SQLite folds case in names, so the table is
    /// named after a digest of the id rather than the id itself.
    static func outboxTable(for lane: LaneID) -> String {
        let digest = SHA256.hash(data: Array(lane.value.utf8))
        return "link_out_" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Decides on a hello already decrypted with its lane's key: the
    /// counter must be above the last one accepted from the lane (persisted,
    /// so a hello captured before a restart stays refused) and not ahead of
    /// our clock by more than the window; then the lane's own handshake rate.
    /// Runs on its own task, never under a lock. Admits nothing yet: the lane
    /// is admitted in ``confirmed(_:endpoint:peer:)``.
    func admit(_ hello: SessionHello, counter: UInt64) async -> LinkEndpoint.Admission {
        let now = wallClock.now()
        let ceiling =
            UInt64(max(0, WireTime.microseconds(now))) &+ UInt64(configuration.windowSeconds * 1_000_000)
        guard counter <= ceiling else {
            state.withLock { $0.own.helloAhead += 1 }
            logger.warning(
                "hello refused: its counter is ahead of our clock",
                metadata: ["lane": "\(hello.laneID)", "counter": "\(counter)"])
            return .refuse(SessionRefusal(.unavailable, detail: "hello counter ahead of central's clock"))
        }
        do {
            try await prepared.value
            guard try await helloCounters.accept(lane: hello.laneID, counter: counter, at: now) else {
                state.withLock { $0.own.helloReplays += 1 }
                logger.warning(
                    "hello refused: counter not above the last accepted one (a replay)",
                    metadata: ["lane": "\(hello.laneID)", "counter": "\(counter)"])
                return .refuse(SessionRefusal(.unavailable, detail: "stale hello"))
            }
        } catch {
            logger.error(
                "cannot check the hello counter", metadata: ["lane": "\(hello.laneID)", "error": "\(error)"])
            return .refuse(SessionRefusal(.unavailable, detail: "central cannot read its store"))
        }
        guard limiter.withLock({ $0.laneHello(hello.laneID, now: now) }) else {
            state.withLock { $0.own.helloRateLimited += 1 }
            return .refuse(SessionRefusal(.unavailable, detail: "too many handshakes; try again later"))
        }
        return .admit(pending: [])
    }

    /// The lane's first encrypted frame decrypted: it holds the session keys.
    /// Now it replaces its old connection, gets its pending rows (read
    /// asynchronously; messages sent meanwhile follow them) and the
    /// established callback fires.
    func confirmed(_ lane: LaneID, endpoint: LinkEndpoint, peer: String) async {
        let pending: [OutboxMessage]
        do {
            let outbox = try await outbox(for: lane)
            state.withLock { s in
                if s.lanes[lane]?.loading == nil { s.lanes[lane]?.loading = [] }
            }
            pending = try await outbox.readPending()
        } catch {
            logger.error("cannot read the lane's outbox", metadata: ["lane": "\(lane)", "error": "\(error)"])
            state.withLock { $0.lanes[lane]?.loading = nil }
            endpoint.shutDown()
            return
        }
        let now = wallClock.now()
        let (replaced, callback, observers) = state.withLock {
            s -> (
                LinkEndpoint?, (@Sendable (LaneID, SessionWelcome) -> Void)?,
                [@Sendable (SessionChange) -> Void]
            )
            in
            guard var entry = s.lanes[lane] else { return (nil, nil, []) }
            // The connection may have ended while the rows were read; then
            // `ended` has run already and must not be undone here.
            guard endpoint.isEstablished else {
                let held = entry.loading ?? []
                entry.loading = nil
                s.lanes[lane] = entry
                if let current = entry.endpoint {
                    for (id, payload) in held { current.enqueue(messageID: id, payload: payload) }
                }
                return (nil, nil, [])
            }
            let old = entry.endpoint
            entry.endpoint = endpoint
            entry.connection = .connected(peer: peer, since: now)
            let held = entry.loading ?? []
            entry.loading = nil
            s.lanes[lane] = entry
            // Under the server's lock (server, then endpoint: never the other
            // way) so that a message sent now is offered after these.
            for message in pending { endpoint.enqueue(messageID: message.id, payload: message.payload) }
            for (id, payload) in held { endpoint.enqueue(messageID: id, payload: payload) }
            return (old === endpoint ? nil : old, s.onEstablished, s.observers)
        }
        if let replaced {
            logger.info("lane reconnected; closing its old connection", metadata: ["lane": "\(lane)"])
            replaced.shutDown()
        }
        if case .established(let established) = endpoint.sessionState {
            for observer in observers { observer(.established(lane)) }
            callback?(lane, established.welcome)
        }
    }

    /// Applies one lane message at most once and queues the replies.
    ///
    /// The handler runs before the transaction, because it may await; its
    /// replies and the applied id then commit together. A message already
    /// applied skips the handler: its replies are in the outbox from the
    /// first time and go out with the lane's pending rows. A crash between the
    /// handler and the commit runs the handler again on the resend, so
    /// effects the handler makes outside this transaction must tolerate that.
    func apply(_ message: LaneMessage, id: UInt64, lane: LaneID, endpoint: LinkEndpoint) async throws {
        try await prepared.value
        let key = "\(lane)/\(id)"
        await claim(key)
        defer { release(key) }
        if try await appliedLog.wasApplied(lane: lane, messageID: id) { return }
        let replies = try await handler(lane, message)
        let payloads = try replies.map { ($0.name, try EndpointPayload.encode($0)) }
        // Once the handler ran, its record must commit even if the
        // connection ends now: GRDB's async access throws when its task is
        // cancelled, and the resend would run the handler a second time. A
        // task of its own does not inherit the connection's cancellation.
        let queued = try await Task { [appliedLog] in
            let outbox = try await self.outbox(for: lane)
            return try await appliedLog.applyingOnce(lane: lane, messageID: id) { db in
                try payloads.map { topic, payload in
                    (try outbox.enqueue(in: db, topic: topic, payload: payload), payload)
                }
            } ?? []
        }.value
        for (replyID, payload) in queued { endpoint.enqueue(messageID: replyID, payload: payload) }
    }

    /// Waits until no other connection is applying `key`, then takes it.
    private func claim(_ key: String) async {
        while true {
            let claimed = state.withLock { s -> Bool in
                guard s.applying[key] == nil else { return false }
                s.applying[key] = []
                return true
            }
            if claimed { return }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let queued = state.withLock { s -> Bool in
                    guard s.applying[key] != nil else { return false }
                    s.applying[key]?.append(waiter)
                    return true
                }
                if !queued { waiter.resume() }
            }
        }
    }

    private func release(_ key: String) {
        let waiters = state.withLock { $0.applying.removeValue(forKey: key) } ?? []
        for waiter in waiters { waiter.resume() }
    }

    func acknowledged(_ ids: [UInt64], lane: LaneID) async {
        do { try await outbox(for: lane).acknowledge(ids) } catch {
            // The rows are sent again and the lane re-acknowledges them.
            logger.error(
                "cannot mark replies acknowledged", metadata: ["lane": "\(lane)", "error": "\(error)"])
        }
    }

    /// A connection ended: fold its counters into its lane's (or the
    /// unbound ones) and, unless a newer connection replaced it, mark the lane down.
    func ended(_ endpoint: LinkEndpoint, reason: LinkSession.CloseReason) {
        let counters = endpoint.counters
        let now = wallClock.now()
        let observers = state.withLock { s -> [@Sendable (SessionChange) -> Void] in
            s.live[ObjectIdentifier(endpoint)] = nil
            guard let lane = endpoint.lane, var entry = s.lanes[lane] else {
                s.unbound = s.unbound + counters
                return []
            }
            entry.finished = entry.finished + counters
            var lost = false
            if entry.endpoint === endpoint {
                entry.endpoint = nil
                entry.connection = .disconnected(since: now, reason: reason)
                lost = true
            }
            s.lanes[lane] = entry
            return lost ? s.observers : []
        }
        if let lane = endpoint.lane {
            for observer in observers { observer(.ended(lane)) }
        }
        logger.info(
            "lane connection ended",
            metadata: ["lane": "\(endpoint.lane.map(\.value) ?? "?")", "reason": "\(reason)"])
    }
}
