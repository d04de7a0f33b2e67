import Crypto
import Foundation
import GRDB
import RoadCargo

// Per-lane bookkeeping of LaneLinkServer: admission, applying, outboxes.
extension LaneLinkServer {
    /// The outbox of central's messages to `lane`, created on first use.
    func outbox(for lane: LaneID) throws -> SQLiteOutbox {
        if let existing = state.withLock({ $0.lanes[lane]?.outbox }) { return existing }
        let made = try SQLiteOutbox(
            writer: database, table: Self.outboxTable(for: lane), now: { [wallClock] in wallClock.now() })
        return state.withLock { s in
            if let existing = s.lanes[lane]?.outbox { return existing }
            s.lanes[lane] = LaneEntry(outbox: made)
            return made
        }
    }

    /// Lane ids may hold '-' and SQLite folds case in names, so the table is
    /// named after a digest of the id rather than the id itself.
    static func outboxTable(for lane: LaneID) -> String {
        let digest = SHA256.hash(data: Array(lane.value.utf8))
        return "link_out_" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Decides on a hello already matched to its signing key. Runs under the
    /// connection's lock, so it only touches the server's state; the old
    /// connection of a reconnecting lane is told to close from a task.
    func admit(_ hello: SessionHello, endpoint: LinkEndpoint, peer: String) -> LinkEndpoint.Admission {
        let outbox: SQLiteOutbox
        let pending: [OutboxMessage]
        do {
            outbox = try self.outbox(for: hello.laneID)
            pending = try outbox.pending()
        } catch {
            logger.error(
                "cannot open the lane's outbox", metadata: ["lane": "\(hello.laneID)", "error": "\(error)"])
            return .refuse(SessionRefusal(.unavailable, detail: "central cannot read its store"))
        }
        let now = wallClock.now()
        let replaced = state.withLock { s -> LinkEndpoint? in
            var entry = s.lanes[hello.laneID] ?? LaneEntry(outbox: outbox)
            let old = entry.endpoint
            entry.endpoint = endpoint
            entry.connection = .connected(peer: peer, since: now)
            s.lanes[hello.laneID] = entry
            return old === endpoint ? nil : old
        }
        if let replaced {
            logger.info("lane reconnected; closing its old connection", metadata: ["lane": "\(hello.laneID)"])
            Task { replaced.shutDown() }
        }
        return .admit(pending: pending.map { ($0.id, $0.payload) })
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
        if try appliedLog.isApplied(lane: lane, messageID: id) { return }
        let replies = try await handler(lane, message)
        let payloads = try replies.map { ($0.name, try EndpointPayload.encode($0)) }
        let outbox = try self.outbox(for: lane)
        var queued: [(UInt64, [UInt8])] = []
        _ = try appliedLog.applyOnce(lane: lane, messageID: id) { db in
            for (topic, payload) in payloads {
                queued.append((try outbox.enqueue(in: db, topic: topic, payload: payload), payload))
            }
        }
        for (replyID, payload) in queued { endpoint.enqueue(messageID: replyID, payload: payload) }
    }

    func acknowledged(_ ids: [UInt64], lane: LaneID) {
        do { try outbox(for: lane).markAcknowledged(ids) } catch {
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
        state.withLock { s in
            s.live[ObjectIdentifier(endpoint)] = nil
            guard let lane = endpoint.lane, var entry = s.lanes[lane] else {
                s.unbound = s.unbound + counters
                return
            }
            entry.finished = entry.finished + counters
            if entry.endpoint === endpoint {
                entry.endpoint = nil
                entry.connection = .disconnected(since: now, reason: reason)
            }
            s.lanes[lane] = entry
        }
        logger.info(
            "lane connection ended",
            metadata: ["lane": "\(endpoint.lane.map(\.value) ?? "?")", "reason": "\(reason)"])
    }
}
