import Foundation
import RoadCargo

extension LinkEndpoint {
    /// Executes one session action under the lock. Returns the actions of any
    /// event it fed back into the session (admit, refuse); defers the owner's
    /// callbacks, which must not run under the lock.
    func execute(
        _ action: LinkSession.Action, state s: inout State, callbacks: inout [@Sendable () -> Void]
    ) -> [LinkSession.Action] {
        let now = ContinuousClock.now
        switch action {
        case .send(let packet):
            guard var encoder = s.encoder else {
                // Central heard nothing authentic yet, so has no key to sign
                // with; only possible for a handshake timeout's close.
                return []
            }
            do {
                let bytes = try encoder.encode(packet, now: wallClockNow())
                s.encoder = encoder
                s.counters.framesSent += 1
                s.counters.bytesSent += bytes.count
                yieldOutbound(bytes)
            } catch {
                // The session's own packets are small; only an oversize
                // application payload gets here, and the sender checked it.
                logEncodingFailure(error, packet: packet)
            }
            return []
        case .deliver(let messageID, let payload):
            yieldDelivery(messageID, payload)
            return []
        case .acknowledged(let ids):
            let acknowledged = handlers.acknowledged
            callbacks.append { acknowledged(ids) }
            return []
        case .admit(let hello):
            // The hello must name the lane whose key signed it: a lane cannot
            // speak for another even with a valid key of its own.
            if let signer = s.lane, signer != hello.laneID {
                return s.session.refuse(
                    SessionRefusal(
                        .unknownLane, detail: "hello names \(hello.laneID) but is signed by \(signer)"),
                    now: now)
            }
            switch handlers.admit(hello) {
            case .refuse(let refusal):
                return s.session.refuse(refusal, now: now)
            case .admit(let pending):
                // Queued in the admitting state, sent once established.
                for (id, payload) in pending {
                    _ = s.session.enqueue(messageID: id, payload: payload, now: now)
                }
                return s.session.admit(now: now)
            }
        case .established(let welcome, let laneID):
            let established = handlers.established
            callbacks.append { established(welcome, laneID) }
            return []
        case .close:
            // The writer closes the transport after the bytes queued before
            // this (a goodbye, a refuse), and the reader then ends `run`.
            finishOutbound()
            return []
        }
    }
}
