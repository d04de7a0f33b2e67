import Foundation
import GPIO
import ShimmedChildSupport
import Synchronization
import TestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Test support for running the REAL libgpiod against the gpio-chip shim
// (TestSupport/gpio-chip, docs/gpio-testing.md). The shim must be in
// LD_PRELOAD when a process starts, so each test that needs it runs its body
// in a child copy of this test binary started with the shim preloaded
// (ShimmedChildSupport's PreloadShim: build, filter, marker, timeout).

#if os(Linux)

    enum GPIOChipShim {
        // Chips come from the test body, not from a hand-run setting.
        static let shim = PreloadShim(
            name: "gpio-chip", clearing: ["LANEKIOSK_GPIO_CHIPS", "LANEKIOSK_GPIO_CONTROL"])

        /// In the parent: runs the calling test again in a child with the shim
        /// preloaded and records the child's failure as this test's. In the
        /// child: runs `body`.
        static func runInShimmedChild(
            sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
        ) async throws {
            try await shim.run(sourceLocation: sourceLocation, body)
        }
    }

    /// A chip of the shim's, driven through its C functions (found with dlsym:
    /// only a child that preloads the shim can make one).
    struct FakeGPIOChip {
        private typealias AddChip =
            @convention(c) (UnsafePointer<CChar>?, UInt32, UnsafePointer<CChar>?) -> Int32
        private typealias SetLevels =
            @convention(c) (UInt32, UInt32, UnsafePointer<Int32>?, UnsafePointer<UInt64>?, UInt32) -> Int32
        private typealias QueueEvent = @convention(c) (UInt32, UInt32, UInt32, UInt64) -> Int32
        private typealias LineQuery = @convention(c) (UInt32, UInt32) -> Int32
        private typealias LineCount = @convention(c) (UInt32, UInt32) -> UInt32
        private typealias RequestQuery =
            @convention(c) (
                UInt32, UInt32, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<UInt32>?,
                UnsafeMutablePointer<CChar>?
            ) -> Int32
        private typealias ChipCount = @convention(c) (UInt32) -> UInt32
        private typealias ChipAction = @convention(c) (UInt32) -> Int32

        private static func function<T>(_ name: String, as type: T.Type) -> T {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
                fatalError("\(name) missing: the gpio-chip shim is not loaded")
            }
            return unsafeBitCast(symbol, to: type)
        }

        /// N in /dev/gpiochipN.
        let number: UInt32
        var name: String { "gpiochip\(number)" }
        var path: String { "/dev/gpiochip\(number)" }

        /// Adds a chip; `names` are the line names by offset ("" for unnamed).
        init(label: String, lines: UInt32, names: [String] = []) throws {
            let add = Self.function("gpio_chip_shim_add_chip", as: AddChip.self)
            let number = add(label, lines, names.joined(separator: ","))
            try #require(number >= 0, "the shim refused to add chip \(label)")
            self.number = UInt32(number)
        }

        /// Sets the physical input level of a line at each timestamp in turn
        /// and queues the edges in one write, as one burst; returns how many
        /// events were queued.
        @discardableResult
        func setLevels(_ offset: UInt32, _ steps: [(level: Int32, at: UInt64)]) -> Int32 {
            let levels = steps.map(\.level)
            let timestamps = steps.map(\.at)
            return Self.function("gpio_chip_shim_set_levels", as: SetLevels.self)(
                number, offset, levels, timestamps, UInt32(steps.count))
        }

        /// A button between the line and ground closes (low) or opens (high, the pull-up).
        @discardableResult
        func press(_ offset: UInt32, at: UInt64) -> Int32 { setLevels(offset, [(0, at)]) }
        @discardableResult
        func release(_ offset: UInt32, at: UInt64) -> Int32 { setLevels(offset, [(1, at)]) }

        /// Queues one raw event (id 1 rising, 2 falling) without changing the level.
        @discardableResult
        func queueEvent(_ offset: UInt32, id: UInt32, at: UInt64) -> Int32 {
            Self.function("gpio_chip_shim_queue_event", as: QueueEvent.self)(number, offset, id, at)
        }

        /// The physical level the line drives as an output, or nil.
        func output(_ offset: UInt32) -> Int32? {
            let value = Self.function("gpio_chip_shim_output", as: LineQuery.self)(number, offset)
            return value < 0 ? nil : value
        }

        struct Request: Equatable {
            /// 0 free, 1 events, 2 handle (values or output).
            var kind: Int32
            var handleFlags: UInt32
            var eventFlags: UInt32
            var consumer: String
        }

        /// What the kernel was asked for the line.
        func request(_ offset: UInt32) -> Request {
            var handleFlags: UInt32 = 0
            var eventFlags: UInt32 = 0
            var consumer = [CChar](repeating: 0, count: 32)
            let kind = Self.function("gpio_chip_shim_request", as: RequestQuery.self)(
                number, offset, &handleFlags, &eventFlags, &consumer)
            let text = String(
                decoding: consumer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return Request(kind: kind, handleFlags: handleFlags, eventFlags: eventFlags, consumer: text)
        }

        func dropped(_ offset: UInt32) -> UInt32 {
            Self.function("gpio_chip_shim_dropped", as: LineCount.self)(number, offset)
        }

        /// Successful opens of the chip's device so far.
        var opens: UInt32 { Self.function("gpio_chip_shim_opens", as: ChipCount.self)(number) }

        /// Another program takes the line (works while the chip is gone, too).
        func hold(_ offset: UInt32, consumer: String) {
            typealias Hold = @convention(c) (UInt32, UInt32, UnsafePointer<CChar>?) -> Int32
            _ = Self.function("gpio_chip_shim_hold", as: Hold.self)(number, offset, consumer)
        }

        func unhold(_ offset: UInt32) {
            _ = Self.function("gpio_chip_shim_unhold", as: LineQuery.self)(number, offset)
        }

        /// Unplugs the chip, as pulling a USB expander does.
        func vanish() { _ = Self.function("gpio_chip_shim_vanish", as: ChipAction.self)(number) }
        func restore() { _ = Self.function("gpio_chip_shim_restore", as: ChipAction.self)(number) }
        /// Unplugs the chip without hanging up its line descriptors, as older kernels do.
        func vanishQuietly() {
            _ = Self.function("gpio_chip_shim_vanish_quietly", as: ChipAction.self)(number)
        }
    }

    /// The v1 ABI's request flags, as linux/gpio.h defines them.
    enum KernelFlags {
        static let input: UInt32 = 1 << 0
        static let output: UInt32 = 1 << 1
        static let activeLow: UInt32 = 1 << 2
        static let pullUp: UInt32 = 1 << 5
        static let pullDown: UInt32 = 1 << 6
        static let risingEdge: UInt32 = 1 << 0
        static let fallingEdge: UInt32 = 1 << 1
    }

#endif

/// Collects a backend's events as they come, so that tests can wait for the
/// next one with a deadline instead of blocking on the stream.
final class EventRecorder: Sendable {
    private final class Store: Sendable {
        let state = Mutex<(received: [ButtonInputEvent], taken: Int, finished: Bool)>(([], 0, false))
    }

    private let store = Store()
    private let reader: Task<Void, Never>

    init(_ backend: some ButtonBackend) {
        let events = backend.events
        reader = Task { [store] in
            for await event in events { store.state.withLock { $0.received.append(event) } }
            store.state.withLock { $0.finished = true }
        }
    }

    deinit { reader.cancel() }

    /// The next event not yet returned, waiting up to `limit` of this task's
    /// own waiting (a generous bound: nothing here measures speed); nil if
    /// none came.
    func next(within limit: Duration = .seconds(20)) async -> ButtonInputEvent? {
        var event: ButtonInputEvent?
        _ = await eventually(within: limit, every: .milliseconds(2)) {
            event = store.state.withLock { state -> ButtonInputEvent? in
                guard state.received.count > state.taken else { return nil }
                state.taken += 1
                return state.received[state.taken - 1]
            }
            return event != nil
        }
        return event
    }

    /// Whether the stream has finished, waiting up to `limit`.
    func hasFinished(within limit: Duration = .seconds(20)) async -> Bool {
        await eventually(within: limit, every: .milliseconds(2)) { store.state.withLock { $0.finished } }
    }

    /// Events received but not yet returned by ``next(within:)``.
    var pending: [ButtonInputEvent] {
        store.state.withLock { Array($0.received.dropFirst($0.taken)) }
    }
}
