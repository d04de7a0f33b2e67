import RoadCargo

// The steps the events in Session.swift share: handshake, the established
// state's packet handling, sending, closing.
extension LinkSession {
    /// The next outbound packet; every packet sent goes through here so the
    /// sequence numbers stay strictly increasing.
    mutating func packet(_ kind: PacketKind, messageID: UInt64 = 0, payload: [UInt8] = []) -> LinkPacket {
        sendSequence += 1
        return LinkPacket(kind: kind, sequence: sendSequence, messageID: messageID, payload: payload)
    }

    /// Moves to closing and asks the executor to close the transport.
    mutating func close(_ reason: CloseReason) -> [Action] {
        state = .closing(reason)
        return [.close(reason)]
    }

    /// Appends a close when our sequence numbers are running out. Checked
    /// after each event rather than per packet, which the margin in
    /// ``sequenceLimit`` allows.
    mutating func finish(_ actions: [Action]) -> [Action] {
        guard sendSequence > Self.sequenceLimit, case .established = state else { return actions }
        return actions + close(.sequenceExhausted)
    }

    // MARK: Handshake

    mutating func welcomeReceived(_ payload: [UInt8], now: SessionInstant) -> [Action] {
        guard case .initiator(let hello) = configuration.role else {
            preconditionFailure("welcome to a responder")
        }
        guard let welcome = configuration.handshakeCoding.decodeWelcome(payload) else {
            return close(.protocolViolation("welcome payload does not decode"))
        }
        guard hello.versions.contains(welcome.version) else {
            return close(
                .protocolViolation("central chose version \(welcome.version), which we did not offer"))
        }
        return finish(establish(welcome, laneID: hello.laneID, now: now))
    }

    /// Sends a heartbeat now, established or not due: the lane's key
    /// confirmation right after the welcome (central admits the lane only
    /// once a frame sealed with the new transport keys arrives).
    public mutating func heartbeatNow(now: SessionInstant) -> [Action] {
        guard case .established(var established) = state else { return [] }
        counters.heartbeatsSent += 1
        established.heartbeat.sent(at: now)
        state = .established(established)
        return [.send(packet(.heartbeat))]
    }

    mutating func helloReceived(_ payload: [UInt8], deadline: SessionInstant) -> [Action] {
        guard case .responder(let versions, _) = configuration.role else {
            preconditionFailure("hello to an initiator")
        }
        guard let hello = configuration.handshakeCoding.decodeHello(payload) else {
            return refuseHello(SessionRefusal(.malformedHello, detail: "hello payload does not decode"))
        }
        guard !Set(versions).isDisjoint(with: hello.versions) else {
            let ours = versions.sorted().map(String.init).joined(separator: ", ")
            return refuseHello(SessionRefusal(.noCommonVersion, detail: "central speaks versions \(ours)"))
        }
        state = .admitting(hello, deadline: deadline)
        return [.admit(hello)]
    }

    mutating func refuseHello(_ refusal: SessionRefusal) -> [Action] {
        let refuse = packet(.refuse, payload: configuration.handshakeCoding.encodeRefusal(refusal))
        return [.send(refuse)] + close(.refusedPeer(refusal))
    }

    /// Enters the established state and sends what was queued meanwhile.
    mutating func establish(_ welcome: SessionWelcome, laneID: LaneID, now: SessionInstant) -> [Action] {
        let heartbeat = HeartbeatTimer(
            interval: configuration.heartbeatInterval, deadPeerInterval: configuration.deadPeerInterval,
            now: now)
        state = .established(Established(welcome: welcome, laneID: laneID, heartbeat: heartbeat))
        return [.established(welcome, laneID: laneID)] + flush(now: now)
    }

    // MARK: Established

    /// A packet in sequence while established (goodbye handled by the caller).
    mutating func establishedReceived(_ packet: LinkPacket, now: SessionInstant) -> [Action] {
        switch packet.kind {
        case .data:
            let id = packet.messageID
            guard id != 0 else { return close(.protocolViolation("data packet without a message id")) }
            if awaitingApply.contains(id) {
                // Being applied now; its ack follows the apply.
                counters.duplicatesSuppressed += 1
                return []
            }
            if recentlyApplied.contains(id) {
                // Our ack was lost: say it again, change nothing.
                counters.duplicatesSuppressed += 1
                return sendAcks([id], now: now)
            }
            awaitingApply.insert(id)
            return [.deliver(messageID: id, payload: packet.payload)]
        case .ack:
            guard let ids = SessionAck.decode(packet.payload) else {
                return close(.protocolViolation("ack payload does not decode"))
            }
            let acknowledged = outbound.acknowledge(ids)
            counters.unexpectedAcks += ids.count - acknowledged.count
            // Acknowledged ids free room in the window.
            return (acknowledged.isEmpty ? [] : [.acknowledged(acknowledged)]) + flush(now: now)
        case .heartbeat:
            return []
        case .hello:
            return helloAgain(packet.payload)
        case .welcome:
            // A second answer to a hello we sent twice.
            guard case .initiator = configuration.role else { break }
            return []
        case .refuse, .goodbye:
            break
        }
        return close(.protocolViolation("\(packet.kind) packet while established"))
    }

    /// Responder, established: the lane sent its hello again because our
    /// welcome was lost or slow. Welcome it again, with the same terms.
    mutating func helloAgain(_ payload: [UInt8]) -> [Action] {
        guard case .responder = configuration.role, case .established(let established) = state,
            let hello = configuration.handshakeCoding.decodeHello(payload), hello.laneID == established.laneID
        else {
            return close(.protocolViolation("hello packet while established"))
        }
        return [
            .send(packet(.welcome, payload: configuration.handshakeCoding.encodeWelcome(established.welcome)))
        ]
    }

    /// Sends new messages that fit in the window and resends those due.
    mutating func flush(now: SessionInstant) -> [Action] {
        guard case .established(var established) = state else { return [] }
        let sendable = outbound.takeSendable(
            now: now, maxInFlight: configuration.maxInFlight, initial: configuration.resendInitial,
            cap: configuration.resendCap)
        guard !sendable.isEmpty else { return [] }
        var actions: [Action] = []
        for (entry, isResend) in sendable {
            if isResend { counters.resends += 1 }
            actions.append(.send(packet(.data, messageID: entry.messageID, payload: entry.payload)))
        }
        established.heartbeat.sent(at: now)
        state = .established(established)
        return actions
    }

    mutating func sendAcks(_ ids: [UInt64], now: SessionInstant) -> [Action] {
        guard case .established(var established) = state, !ids.isEmpty else { return [] }
        var actions: [Action] = []
        var start = ids.startIndex
        while start < ids.endIndex {
            let end = min(start + configuration.maxIDsPerAck, ids.endIndex)
            actions.append(.send(packet(.ack, payload: SessionAck.encode(Array(ids[start..<end])))))
            start = end
        }
        established.heartbeat.sent(at: now)
        state = .established(established)
        return actions
    }
}
