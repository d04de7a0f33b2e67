import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Gives freed heap back to the system after a burst of allocation (a lane
/// installing its bundle cache, central sending a cache push).
///
/// glibc keeps freed memory in its arenas for reuse, so a lane that had
/// decoded and written a cache of 100,000 bundles stayed at its high-water
/// mark long after the buffers were freed. `malloc_trim` returns what is
/// free. It walks the heap, which may take milliseconds, so it runs on a
/// utility dispatch queue, never on a Swift concurrency thread, and the
/// requests made before a queued trim starts are served by that one trim
/// (200 lanes linking at once ask central for 200).
public enum HeapTrim {
    private static let queue = DispatchQueue(label: "lanekiosk.heap-trim", qos: .utility)
    private static let queued = Atomic<Bool>(false)

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module
    /// does not carry malloc.h, and another libc has none (nothing to do).
    private static let trim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else {
                return nil
            }
            return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
            return nil
        #endif
    }()

    /// Whether this system can trim at all.
    public static var isAvailable: Bool { trim != nil }

    /// Trims soon, off the caller's thread; returns at once.
    public static func soon() {
        guard !queued.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async {
            queued.store(false, ordering: .releasing)
            now()
        }
    }

    /// Trims on the calling thread (``soon()``'s queue, a test); true when
    /// memory was returned.
    @discardableResult
    public static func now() -> Bool { (trim?(0) ?? 0) == 1 }
}
