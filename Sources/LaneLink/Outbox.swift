import Foundation
import GRDB

/// One application message waiting for (or, if retained, past) the peer's
/// acknowledgement.
public struct OutboxMessage: Sendable, Hashable {
    /// The message id on the wire: unique for this sender for all time.
    public var id: UInt64
    /// What kind of message it is (`"decision-request"`, `"lane-event"`), for
    /// the journal and for `lanectl`; the link never reads it.
    public var topic: String
    public var payload: [UInt8]
    public var enqueuedAt: Date

    public init(id: UInt64, topic: String, payload: [UInt8], enqueuedAt: Date) {
        self.id = id
        self.topic = topic
        self.payload = payload
        self.enqueuedAt = enqueuedAt
    }
}

/// The sender's durable store of messages the peer has not acknowledged.
///
/// Enqueue before sending, mark acknowledged on the session's
/// ``LinkSession/Action/acknowledged(_:)``, and load ``pending(limit:)`` into
/// every new session: then a message survives any crash between enqueue and
/// acknowledgement and is sent until the peer has applied it.
public protocol Outbox: Sendable {
    /// Stores a message durably and returns its id, which is greater than every
    /// id this outbox has ever returned, even after acknowledged rows are gone.
    func enqueue(topic: String, payload: [UInt8]) throws -> UInt64
    /// Unacknowledged messages in id order (the order they were enqueued),
    /// at most `limit` of them when given.
    func pending(limit: Int?) throws -> [OutboxMessage]
    /// Marks messages acknowledged. Unknown or already acknowledged ids are
    /// ignored: acks may repeat.
    func markAcknowledged(_ ids: [UInt64]) throws
    /// How many messages wait for an acknowledgement.
    func pendingCount() throws -> Int

    // The same without blocking a cooperative thread (GRDB's async API):
    // what the link itself calls.

    /// ``enqueue(topic:payload:)`` without blocking.
    func append(topic: String, payload: [UInt8]) async throws -> UInt64
    /// ``pending(limit:)`` without blocking.
    func readPending(limit: Int?) async throws -> [OutboxMessage]
    /// ``markAcknowledged(_:)`` without blocking.
    func acknowledge(_ ids: [UInt64]) async throws
    /// ``pendingCount()`` without blocking.
    func countPending() async throws -> Int
}

extension Outbox {
    /// All unacknowledged messages, in order.
    public func pending() throws -> [OutboxMessage] { try pending(limit: nil) }
}

/// What an outbox keeps once the peer has acknowledged a message.
public enum OutboxRetention: Sendable, Hashable {
    /// Delete the row at acknowledgement.
    case deleteAcknowledged
    /// Keep acknowledged rows this long (for `lanectl` and incident review),
    /// then delete them during a later ``Outbox/markAcknowledged(_:)``.
    case keepAcknowledged(for: Duration)
}

/// Why an outbox or applied log could not be opened.
public enum LinkStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A table name that is not a plain SQL identifier.
    case invalidTableName(String)

    public var description: String {
        switch self {
        case .invalidTableName(let name):
            return
                "\"\(name)\" cannot be a table name: use letters, digits and '_', not starting with a digit"
        }
    }

    /// Table names are spliced into SQL, so only plain identifiers pass.
    static func check(_ table: String) throws(LinkStoreError) {
        let allowed = table.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F
        }
        guard allowed, let first = table.utf8.first, !(first >= 0x30 && first <= 0x39), table.utf8.count <= 64
        else {
            throw .invalidTableName(table)
        }
    }
}

/// Opens an SQLite file the way every link store wants it: WAL, so readers
/// never block the writer and a commit is durable once `fsync`ed to the log;
/// `synchronous = FULL`, so a commit survives power loss and not only kill -9;
/// a busy timeout for the other process (`lanectl`, a backup) that holds the
/// lock for a moment.
enum LinkDatabase {
    static func open(path: String, label: String) throws -> DatabasePool {
        var config = Configuration()
        config.label = label
        config.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: config)
        // Not in `prepareDatabase`: GRDB's pool sets NORMAL on its writer
        // after that hook (`Database.setUpWALMode`), and NORMAL in WAL mode
        // syncs only at checkpoints. The writer connection lives as long as
        // the pool, so setting it once here holds for every commit.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return pool
    }

    /// Milliseconds since 1970, how the link stores wall-clock times.
    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
