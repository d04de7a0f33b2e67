import Foundation
import LinkCore
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
            switch s.cipher.seal(packet) {
            case .success(let bytes):
                s.counters.framesSent += 1
                s.counters.bytesSent += bytes.count
                yieldOutbound(bytes)
            case .failure(.notReady):
                // A goodbye before the handshake gave keys, or a close after
                // a refusal: nothing can be sealed, and nothing needs to be.
                break
            case .failure(let error):
                // The session's own packets are small; only an oversize
                // application payload gets here, and the sender checked it.
                logSealFailure(error, packet: packet)
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
            // The hello must name the lane whose key opened it: a lane cannot
            // speak for another even with a valid key of its own.
            if let signer = s.cipher.lane, signer != hello.laneID {
                return s.session.refuse(
                    SessionRefusal(
                        .unknownLane, detail: "hello names \(hello.laneID) but is sealed by \(signer)"),
                    now: now)
            }
            // The owner may read its database: ask on a task of its own and
            // feed the answer back as an event; the session waits in
            // `admitting`, whose deadline still holds.
            let admit = handlers.admit
            let counter = s.helloCounter ?? 0
            callbacks.append {
                Task {
                    let answer = await admit(hello, counter)
                    self.answer(answer)
                }
            }
            return []
        case .established(let welcome, let laneID):
            let established = handlers.established
            callbacks.append { established(welcome, laneID) }
            // The lane proves at once that it holds the new keys, rather
            // than at its first heartbeat a second later.
            return s.cipher.sending == .laneToCentral ? s.session.heartbeatNow(now: now) : []
        case .close:
            // The writer closes the transport after the bytes queued before
            // this (a goodbye, a refuse), and the reader then ends `run`.
            finishOutbound()
            return []
        }
    }

    /// The owner's answer to a hello, fed back into the session.
    func answer(_ admission: Admission) {
        let now = ContinuousClock.now
        perform { s, _ in
            guard case .admitting = s.session.state else { return ([], ()) }
            switch admission {
            case .refuse(let refusal):
                return (s.session.refuse(refusal, now: now), ())
            case .admit(let pending):
                var actions: [LinkSession.Action] = []
                // Queued in the admitting state, sent once established.
                for (id, payload) in pending {
                    actions += s.session.enqueue(messageID: id, payload: payload, now: now)
                }
                return (actions + s.session.admit(now: now), ())
            }
        }
    }
}
