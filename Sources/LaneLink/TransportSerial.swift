import Foundation
import SerialPort
import Synchronization

/// A ``LinkTransport`` over a serial line, through libserialport.
///
/// libserialport's calls block, so they never run on the Swift concurrency
/// pool: one dedicated thread opens the port and reads it with a short
/// timeout (so it notices ``close()``), a second dedicated thread performs the
/// queued writes, one at a time, so a write never waits for a read timeout.
/// A pulled adapter, a hung-up line or a closed pty ends ``inbound`` with
/// ``LinkTransportError/deviceVanished(path:reason:)``.
public final class SerialLinkTransport: LinkTransport {
    public var peer: String { path }
    public let path: String
    public let inbound: AsyncThrowingStream<[UInt8], any Error>

    private let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    private let ending = Mutex<LinkTransportError?>(nil)
    private let stopRequested = Atomic<Bool>(false)
    private let writes = Mutex(WriteQueue())
    /// Counts queued writes plus one for a stop, so the writer sleeps between them.
    private let writeSignal = DispatchSemaphore(value: 0)
    private let readerExited = ExitSignal()
    private let pollInterval: Duration
    private let writeTimeout: Duration

    private struct WriteQueue {
        var items: [(bytes: [UInt8], done: CheckedContinuation<Void, any Error>)] = []
        var stopping = false
    }

    /// Opens the port on its own thread and starts reading.
    /// - Parameters:
    ///   - pollInterval: How long one read waits; bounds how long ``close()`` takes.
    ///   - writeTimeout: How long one write may block (a line held by flow control)
    ///     before the transport gives up on the line.
    /// - Throws: ``LinkTransportError/openFailed(path:reason:)`` with libserialport's explanation.
    public init(
        path: String, configuration: SerialPort.Configuration = SerialPort.Configuration(),
        pollInterval: Duration = .milliseconds(50), writeTimeout: Duration = .seconds(5)
    ) async throws {
        self.path = path
        self.pollInterval = pollInterval
        self.writeTimeout = writeTimeout
        (inbound, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        try await withCheckedThrowingContinuation { (opened: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                run(configuration: configuration, opened: opened)
                readerExited.signal()
            }
            thread.name = "serial-link read \(path)"
            thread.start()
        }
    }

    public func write(_ bytes: [UInt8]) async throws {
        if let reason = ending.withLock({ $0 }) { throw reason }
        guard !bytes.isEmpty else { return }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let queued = writes.withLock { queue in
                guard !queue.stopping else { return false }
                queue.items.append((bytes, done))
                return true
            }
            if queued {
                writeSignal.signal()
            } else {
                done.resume(throwing: ending.withLock { $0 } ?? .closed(peer: path))
            }
        }
    }

    public func close() async {
        ending.withLock { reason in
            if reason == nil { reason = .closed(peer: path) }
        }
        continuation.finish()
        stop()
        await readerExited.wait()
    }

    /// Whether the reader thread has finished and the port is closed; for tests that check for leaks.
    public var isFinished: Bool { readerExited.isSignalled }

    // MARK: The reader thread

    /// Opens the port, starts the writer, reads until stopped or the line fails,
    /// then stops the writer and closes the port, in that order.
    private func run(configuration: SerialPort.Configuration, opened: CheckedContinuation<Void, any Error>) {
        let port: SerialPort
        do {
            port = try SerialPort(path: path, configuration: configuration)
        } catch {
            opened.resume(throwing: LinkTransportError.openFailed(path: path, reason: error.description))
            return
        }
        let shared = SharedPort(port)
        let writerExited = DispatchSemaphore(value: 0)
        let writer = Thread { [self] in
            writeLoop(shared)
            writerExited.signal()
        }
        writer.name = "serial-link write \(path)"
        writer.start()
        opened.resume()

        while !stopRequested.load(ordering: .acquiring) {
            do {
                let bytes = try shared.port.read(upTo: 4096, timeout: pollInterval)
                if !bytes.isEmpty { continuation.yield(bytes) }
            } catch {
                fail(classify(error))
            }
        }
        stop()
        writerExited.wait()
        // Both threads are done with the port; the last reference goes here and
        // its deinit closes the device before close() returns.
        shared.release()
    }

    private func writeLoop(_ shared: SharedPort) {
        while true {
            writeSignal.wait()
            let next = writes.withLock {
                queue -> (bytes: [UInt8], done: CheckedContinuation<Void, any Error>)? in
                queue.stopping || queue.items.isEmpty ? nil : queue.items.removeFirst()
            }
            guard let (bytes, done) = next else {
                if writes.withLock({ $0.stopping }) { return }
                continue
            }
            do {
                let written = try shared.port.write(bytes, timeout: writeTimeout)
                guard written == bytes.count else {
                    let reason = LinkTransportError.ioFailed(
                        peer: path, reason: "write blocked for \(writeTimeout) (flow control or a stuck line)"
                    )
                    fail(reason)
                    done.resume(throwing: reason)
                    return
                }
                done.resume()
            } catch {
                let reason = classify(error)
                fail(reason)
                done.resume(throwing: reason)
                return
            }
        }
    }

    // MARK: Ending

    /// The line failed under us: record why, end inbound with it, stop both threads.
    private func fail(_ reason: LinkTransportError) {
        let first = ending.withLock { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
        if first { continuation.finish(throwing: reason) }
        stop()
    }

    /// Asks both threads to stop and fails writes still queued.
    private func stop() {
        stopRequested.store(true, ordering: .releasing)
        let pending = writes.withLock { queue in
            queue.stopping = true
            defer { queue.items = [] }
            return queue.items
        }
        let reason = ending.withLock { $0 } ?? .closed(peer: path)
        for item in pending { item.done.resume(throwing: reason) }
        writeSignal.signal()
    }

    /// EIO, ENXIO and ENODEV are what Linux gives for a device that is gone or a
    /// tty that hung up; anything else is some other failure of the line.
    private func classify(_ error: SerialPortError) -> LinkTransportError {
        switch error.osErrorCode {
        case EIO, ENXIO, ENODEV:
            return .deviceVanished(path: path, reason: error.description)
        default:
            return .ioFailed(peer: path, reason: error.description)
        }
    }
}

/// The open port, shared by the reader and writer threads.
///
/// `@unchecked Sendable` because `SerialPort` is not `Sendable`, and sharing it
/// here is safe for these reasons: after opening, the reader thread only reads
/// and the writer thread only writes; libserialport's read and write touch only
/// the file descriptor (the kernel's tty layer allows one reader and one writer
/// at once), never the `sp_port` fields; the port is never reconfigured; and
/// ``release()`` runs on the reader thread after the writer has exited.
private final class SharedPort: @unchecked Sendable {
    private var slot: SerialPort?

    init(_ port: SerialPort) { slot = port }

    var port: SerialPort {
        guard let slot else { preconditionFailure("serial port used after release") }
        return slot
    }

    func release() { slot = nil }
}

/// A one-shot signal that async code can wait for; a thread's "I have exited".
private final class ExitSignal: Sendable {
    private let state = Mutex<(signalled: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func signal() {
        let waiters = state.withLock { state in
            state.signalled = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { waiter in
            let done = state.withLock { state in
                if !state.signalled { state.waiters.append(waiter) }
                return state.signalled
            }
            if done { waiter.resume() }
        }
    }

    var isSignalled: Bool { state.withLock { $0.signalled } }
}
