/// The session's outbound data messages that the peer has not acknowledged,
/// in the order they were enqueued.
///
/// The first ``LinkSession/Configuration/maxInFlight`` of them are on the wire
/// (sent at least once, each with its own resend deadline); the rest wait for
/// room. On the lane this mirrors the durable outbox's pending rows: the
/// outbox is the truth, this is the copy one connection works from.
struct SessionOutbound: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        let messageID: UInt64
        let payload: [UInt8]
        /// Transmissions so far; zero until first sent.
        var attempts = 0
        /// When to send it again; nil until first sent.
        var due: SessionInstant?
    }

    private(set) var entries: [Entry] = []
    private var known: Set<UInt64> = []

    var messageIDs: [UInt64] { entries.map(\.messageID) }
    var isEmpty: Bool { entries.isEmpty }

    /// Adds a message; false when the id is already queued (an executor that
    /// reloads its outbox may offer the same row twice).
    mutating func add(messageID: UInt64, payload: [UInt8]) -> Bool {
        guard known.insert(messageID).inserted else { return false }
        entries.append(Entry(messageID: messageID, payload: payload))
        return true
    }

    /// Removes the acknowledged ids; returns those that were queued, in queue order.
    mutating func acknowledge(_ ids: [UInt64]) -> [UInt64] {
        let acked = known.intersection(ids)
        guard !acked.isEmpty else { return [] }
        known.subtract(acked)
        let removed = entries.filter { acked.contains($0.messageID) }.map(\.messageID)
        entries.removeAll { acked.contains($0.messageID) }
        return removed
    }

    /// Marks messages for transmission: first the never-sent ones that fit in
    /// the window (in queue order), then in-flight ones whose resend is due.
    /// Returns them with the attempt number each is about to make.
    mutating func takeSendable(
        now: SessionInstant, maxInFlight: Int, initial: Duration, cap: Duration
    ) -> [(entry: Entry, isResend: Bool)] {
        var out: [(entry: Entry, isResend: Bool)] = []
        var inFlight = entries.count { $0.due != nil }
        for index in entries.indices {
            let isResend: Bool
            if let due = entries[index].due {
                guard due <= now else { continue }
                isResend = true
            } else {
                guard inFlight < maxInFlight else { continue }
                inFlight += 1
                isResend = false
            }
            entries[index].attempts += 1
            let wait = ResendBackoff.delay(attempt: entries[index].attempts, initial: initial, cap: cap)
            entries[index].due = now + wait
            out.append((entries[index], isResend))
        }
        return out
    }

    /// The earliest resend deadline, if anything is in flight.
    var nextDue: SessionInstant? { entries.compactMap(\.due).min() }

    /// The same messages, none of them sent: what a new connection starts from.
    var unsent: SessionOutbound {
        var copy = self
        for index in copy.entries.indices {
            copy.entries[index].attempts = 0
            copy.entries[index].due = nil
        }
        return copy
    }
}

/// The last `capacity` message ids applied, oldest forgotten first.
struct SessionRecentIDs: Sendable, Hashable {
    let capacity: Int
    private var members: Set<UInt64> = []
    private var order: [UInt64] = []
    private var head = 0

    init(capacity: Int) { self.capacity = max(capacity, 0) }

    func contains(_ id: UInt64) -> Bool { members.contains(id) }

    mutating func insert(_ id: UInt64) {
        guard capacity > 0, members.insert(id).inserted else { return }
        if order.count < capacity {
            order.append(id)
        } else {
            // A ring: overwrite the oldest instead of shifting the array.
            members.remove(order[head])
            order[head] = id
            head = (head + 1) % capacity
        }
    }
}
