import Foundation

/// Who may try a console password now: a pure value, fed each attempt and
/// its outcome with the time, so tests drive it with a table and no clock.
///
/// The rules (docs/console.md, "Log-in throttle"):
/// - An attempt is counted when it is admitted, before the password is
///   checked, so parallel guesses cannot all slip past the limit: the
///   count drops back only when the check succeeds.
/// - Per source address: ``Limits/perAddress`` failures within
///   ``Limits/window`` lock the address until the window has passed. This
///   is the heavy block; it falls on the attacker's address.
/// - Per name: the first ``Limits/freePerName`` failures cost nothing; after
///   them each try must wait a back-off that doubles from
///   ``Limits/backoffBase`` up to ``Limits/backoffCap`` after the last
///   admitted one. Past ``Limits/lockPerName`` failures the name is locked
///   for the window, except from a known console of that officer (a
///   browser that logged in as them before), which only waits the back-off.
/// - Unknown names are counted like known ones: the throttle never asks
///   whether a name exists.
public struct LoginThrottle: Sendable, Hashable {
    public struct Limits: Sendable, Hashable {
        public var perAddress: Int
        public var freePerName: Int
        public var lockPerName: Int
        public var backoffBase: TimeInterval
        public var backoffCap: TimeInterval
        public var window: TimeInterval
        /// Names and addresses remembered at most; the oldest are forgotten
        /// first, so spraying random names cannot grow memory without end.
        public var maxEntries: Int

        public init(
            perAddress: Int = 20, freePerName: Int = 5, lockPerName: Int = 20, backoffBase: TimeInterval = 1,
            backoffCap: TimeInterval = 8, window: TimeInterval = 15 * 60, maxEntries: Int = 10_000
        ) {
            self.perAddress = perAddress
            self.freePerName = freePerName
            self.lockPerName = lockPerName
            self.backoffBase = backoffBase
            self.backoffCap = backoffCap
            self.window = window
            self.maxEntries = maxEntries
        }
    }

    /// What the throttle says to one attempt.
    public enum Decision: Sendable, Hashable {
        /// Check the password, then report the outcome with ``finish(_:succeeded:now:)``.
        case check(Ticket)
        /// Refuse without checking; try again after `retryAfter` seconds.
        case refuse(Refusal, retryAfter: TimeInterval)
    }

    public enum Refusal: Sendable, Hashable {
        case addressLocked
        case nameLocked
        case backoff
    }

    /// An admitted attempt, counted as a failure until it is finished as a success.
    public struct Ticket: Sendable, Hashable {
        public var name: String
        public var address: String
    }

    struct Record: Sendable, Hashable {
        var failures: Int
        /// The last admitted attempt: the back-off runs from it, and the
        /// record (and any lock) lasts a window after it, so a slow guesser
        /// gets no fresh allowance each window.
        var last: TimeInterval
    }

    public let limits: Limits
    var names: [String: Record] = [:]
    var addresses: [String: Record] = [:]

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether an attempt at `name` from `address` may be checked now.
    /// - Parameter knownConsole: the browser proved (a signed device cookie)
    ///   that it logged in as `name` before.
    public mutating func admit(name rawName: String, address: String, knownConsole: Bool, now: Date)
        -> Decision
    {
        let t = now.timeIntervalSinceReferenceDate
        let name = Self.key(rawName)
        let byName = live(names[name], at: t)
        let byAddress = live(addresses[address], at: t)
        if let byAddress, byAddress.failures >= limits.perAddress, !knownConsole {
            return .refuse(.addressLocked, retryAfter: (byAddress.last + limits.window - t).rounded(.up))
        }
        if let byName, byName.failures >= limits.lockPerName, !knownConsole {
            return .refuse(.nameLocked, retryAfter: (byName.last + limits.window - t).rounded(.up))
        }
        if let byName, byName.failures >= limits.freePerName {
            let wait = backoff(failures: byName.failures)
            if t < byName.last + wait {
                return .refuse(.backoff, retryAfter: max(1, (byName.last + wait - t).rounded(.up)))
            }
        }
        names[name] = Self.counted(byName, at: t)
        addresses[address] = Self.counted(byAddress, at: t)
        trim(now: t)
        return .check(Ticket(name: name, address: address))
    }

    /// Reports a checked attempt: a success takes its own count back and
    /// clears the name's record (the officer is in); a failure stays counted.
    public mutating func finish(_ ticket: Ticket, succeeded: Bool, now: Date) {
        guard succeeded else { return }
        names[ticket.name] = nil
        if var record = addresses[ticket.address] {
            record.failures = max(0, record.failures - 1)
            addresses[ticket.address] = record.failures == 0 ? nil : record
        }
    }

    /// Takes back an admitted attempt that was never checked (the hashing
    /// queue was full): it proved nothing, so it costs nothing.
    public mutating func withdraw(_ ticket: Ticket) {
        for table in [\LoginThrottle.names, \LoginThrottle.addresses] {
            let key = table == \LoginThrottle.names ? ticket.name : ticket.address
            guard var record = self[keyPath: table][key] else { continue }
            record.failures -= 1
            self[keyPath: table][key] = record.failures <= 0 ? nil : record
        }
    }

    /// How many names and addresses the throttle remembers now.
    public var remembered: (names: Int, addresses: Int) { (names.count, addresses.count) }

    /// The wait before the next try at a name with `failures` failures.
    public func backoff(failures: Int) -> TimeInterval {
        let over = failures - limits.freePerName
        guard over >= 0 else { return 0 }
        return min(limits.backoffCap, limits.backoffBase * pow(2, Double(min(over, 30))))
    }

    /// Names compare without case, as accounts do.
    static func key(_ name: String) -> String { String(name.lowercased().prefix(64)) }

    private static func counted(_ record: Record?, at t: TimeInterval) -> Record {
        guard var record else { return Record(failures: 1, last: t) }
        record.failures += 1
        record.last = t
        return record
    }

    private func live(_ record: Record?, at t: TimeInterval) -> Record? {
        guard let record, t < record.last + limits.window else { return nil }
        return record
    }

    /// Forgets expired records, then the oldest, once a table outgrows the
    /// limit; down to three quarters, so the sort is paid rarely.
    private mutating func trim(now t: TimeInterval) {
        names = Self.trimmed(names, limits: limits, now: t)
        addresses = Self.trimmed(addresses, limits: limits, now: t)
    }

    private static func trimmed(_ table: [String: Record], limits: Limits, now t: TimeInterval)
        -> [String: Record]
    {
        guard table.count > limits.maxEntries else { return table }
        var kept = table.filter { t < $0.value.last + limits.window }
        let target = limits.maxEntries * 3 / 4
        if kept.count > target {
            for (key, _) in kept.sorted(by: { $0.value.last < $1.value.last }).prefix(kept.count - target) {
                kept[key] = nil
            }
        }
        return kept
    }
}
